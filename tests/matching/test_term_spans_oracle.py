"""The term spans of :class:`matching.text.TermLocator` equal the old per-word lookup's
(tests/oracle/term_spans_oracle.py) on random texts and term sets: same spans, same order."""

from __future__ import annotations

import random

from matching.text import (
    _WORD_RE,
    SpanCache,
    TermLocator,
    _Vocabulary,
    _word_terms,
    content_terms,
    fold,
)
from tests.oracle.term_spans_oracle import OracleTermLocator

WORDS = [
    "heftruckchauffeur",
    "Heftruckchauffeurs",
    "chauffeur",
    "heftruck",
    "kok",
    "Café",
    "crèche",
    "magazijnmedewerker",
    "magazijnmedewerkster",
    "orderpicker",
    "orderpickers",
    "lassen",
    "laden",
    "lossen",
    "VCA",
    "rijbewijs",
    "Ĳsselmonde",
    "zoetermeer",
    "schoonmaak",
    "schoonmaakster",
    "kassamedewerker",
    "kassamedewerkers",
    "verkoper",
    "verkoopster",
    "bakkerij",
    "bakkersknecht",
    "de",
    "en",
    "het",
    "ervaring",
    "regio",
    "uur",
    "32",
    "2026",
    "zorg",
    "zorgmedewerker",
    "thuiszorg",
    "ziekenhuis",
    "beveiliger",
    "beveiligingsbeambte",
    "naïef",
    "coördinator",
    "logistiek",
    "logistiekmedewerker",
    "planner",
    "Straße",
    "ﬁle",
    "e\u0301cole",
    "vorkheftruckchauffeur",
    "kok_kok",
    "fietskoerier",
    "koerier",
    "x²kok",
    "½kok",
    "kok٣",
    "中kok",
    "Ⅻ",
    "kok\u200dkok",
    "hulpkok",
    "kokkok",
    "laden\u0301",
]
SEPARATORS = [" ", " ", " ", ", ", ". ", "\n", "-", "/", "_", " (", ") ", "; ", "’"]


def _text(rng: random.Random) -> str:
    n = rng.randint(0, 60)
    out = []
    for _ in range(n):
        word = rng.choice(WORDS)
        if rng.random() < 0.15:
            word = word.upper()
        if rng.random() < 0.1:
            word += rng.choice(WORDS).lower()  # a compound the vocabulary does not list
        out.append(word + rng.choice(SEPARATORS))
    return "".join(out)


def _terms(rng: random.Random, text: str) -> set[str]:
    pool = content_terms(text) + content_terms(" ".join(rng.sample(WORDS, 8)))
    return set(rng.sample(pool, min(len(pool), rng.randint(0, 8))))


def test_spans_equal_the_oracle_on_random_texts_and_term_sets() -> None:
    rng = random.Random(13)
    compared = 0
    for _ in range(1500):
        text = _text(rng)
        product, oracle = TermLocator(text), OracleTermLocator(text)
        # the first lookup reads the text, later ones its index: both paths are compared
        for _ in range(rng.randint(1, 4)):
            terms = _terms(rng, text)
            limit = rng.choice([1, 2, 3, 5, 50])
            expected = oracle.spans(terms, limit)
            assert product.spans(terms, limit) == expected, (text, terms, limit)
            compared += bool(expected)
    assert compared > 1000  # most lookups found something: the comparison is not of empties


def test_the_vocabulary_finds_the_words_holding_a_term_also_after_starting_again() -> None:
    rng = random.Random(7)
    vocabulary = _Vocabulary(limit=40)  # starts again empty many times below
    for _ in range(300):
        text = _text(rng)
        words = set(_WORD_RE.findall(fold(text)))
        wanted = _terms(rng, text)
        expected = {w for w in words if not _word_terms(w).isdisjoint(wanted)}
        assert vocabulary.holding(words, wanted) == expected


def test_cached_spans_equal_the_oracle_on_each_lookup_of_a_row() -> None:
    """A row's first lookup scans, its second indexes, later ones read the index; a changed
    text starts again: every lookup gives the oracle's spans."""
    rng = random.Random(17)
    cache = SpanCache(size=8)
    texts = {row: _text(rng) for row in range(12)}
    compared = 0
    for _ in range(600):
        row = rng.randrange(12)
        if rng.random() < 0.05:
            texts[row] = _text(rng)  # the row changed: its old entry must not answer
        text = texts[row]
        terms = _terms(rng, text)
        limit = rng.choice([1, 3, 50])
        expected = OracleTermLocator(text).spans(terms, limit)
        assert cache.spans(row, text, terms, limit) == expected, (text, terms, limit)
        compared += bool(expected)
    assert compared > 300
    assert len(cache) <= 8


def test_a_discarded_or_unkept_row_leaves_no_entry() -> None:
    cache = SpanCache()
    text = "Heftruckchauffeur in Zoetermeer, lossen en laden."
    assert cache.spans(1, text, {"heftruck"}) == [("heftruck", 0, 8)]
    assert cache.spans(2, text, {"laden"}, keep=False) == [("laden", 43, 48)]
    assert len(cache) == 1
    cache.discard([1, 7])
    assert len(cache) == 0
