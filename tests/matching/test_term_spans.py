"""``term_spans``: offsets of the shared lexical terms in the original (Dutch) text."""

from __future__ import annotations

import unicodedata

from matching.text import content_terms, fold, term_spans


def _covered(text: str, spans: list[tuple[str, int, int]]) -> list[tuple[str, str]]:
    return [(term, text[start:end]) for term, start, end in spans]


def test_whole_words_are_found_whatever_their_case_and_accents() -> None:
    text = "Werkte in een CAFÉ en een Crèche; daarna als Heftruckchauffeur."
    spans = term_spans(text, {"cafe", "creche", "heftruckchauffeur"})
    assert _covered(text, spans) == [
        ("cafe", "CAFÉ"),
        ("creche", "Crèche"),
        ("heftruckchauffeur", "Heftruckchauffeur"),
    ]


def test_decomposed_accents_and_ligatures_keep_offsets_in_the_original_text() -> None:
    # "é" written as e + combining acute, and the Dutch IJ ligature: folding changes lengths.
    text = unicodedata.normalize("NFD", "Één café in Ĳsselmonde, één in Zoetermeer")
    spans = term_spans(text, {"cafe", "ijsselmonde", "zoetermeer"})
    got = _covered(text, spans)
    assert [t for t, _ in got] == ["cafe", "ijsselmonde", "zoetermeer"]
    for term, covered in got:
        assert fold(covered) == term
    assert got[1][1] == "Ĳsselmonde"


def test_compound_parts_point_at_the_part_also_in_plural() -> None:
    text = "Ervaring als vorkheftruckchauffeur en met Heftruckchauffeurs"
    spans = term_spans(text, {"chauffeur", "heftruck"})
    assert _covered(text, spans) == [
        ("chauffeur", "chauffeur"),
        ("heftruck", "Heftruck"),
        ("chauffeur", "chauffeurs"),
    ]
    assert spans[0][1] == text.index("chauffeur en")
    # The whole plural compound is its own term, as in content_terms.
    assert _covered(text, term_spans(text, {"heftruckchauffeurs"})) == [
        ("heftruckchauffeurs", "Heftruckchauffeurs")
    ]


def test_feminine_forms_point_at_the_whole_word() -> None:
    text = "Zes jaar kassamedewerkster"
    assert _covered(text, term_spans(text, {"kassamedewerker"})) == [
        ("kassamedewerker", "kassamedewerkster")
    ]


def test_every_span_is_a_term_content_terms_finds_in_it() -> None:
    text = "Tien jaar als Verzorgende IG in de thuiszorg; HACCP-certificaat, Sociale Hygiëne."
    terms = set(content_terms(text))
    spans = term_spans(text, terms)
    assert {t for t, _, _ in spans} == terms
    for term, start, end in spans:
        assert term in content_terms(text[start:end])


def test_nothing_to_find_and_the_limit() -> None:
    assert term_spans("", {"kok"}) == []
    assert term_spans("kok kok", set()) == []
    assert term_spans("de en het", {"de"}) == []  # stopwords are never terms
    assert len(term_spans("kok " * 100, {"kok"}, limit=7)) == 7
