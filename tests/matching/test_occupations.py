"""The ESCO occupation normaliser on Dutch title variants, the ESCO CSV reader and the MELO
evaluation, on a small subset of ESCO NL (tests/data/esco_subset)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from matching.embedder import Encoder
from matching.esco import BUNDLED_ESCO_NL, read_esco
from matching.melo import evaluate, load_melo
from matching.occupations import (
    FusedNormalizer,
    OccupationConcept,
    OccupationNormalizer,
    fusion_labels,
    title_words,
)
from matching.text import normalize_title

SUBSET = Path(__file__).resolve().parents[1] / "data" / "esco_subset"


@pytest.fixture(scope="module")
def normalizer() -> OccupationNormalizer:
    concepts = [
        OccupationConcept(
            r.uri,
            r.preferred_label,
            (r.preferred_label, *r.alt_labels, *r.hidden_labels),
            r.isco_code,
        )
        for r in read_esco(SUBSET)
    ]
    return OccupationNormalizer(concepts)


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Heftruckchauffeur (m/v) 32 uur", "heftruckchauffeur"),
        ("chauffeur heftruck", "heftruckchauffeur"),  # compound written as two words
        ("Heftruckchauffeuse", "heftruckchauffeur"),  # feminine form
        ("HEFTRUCKCHAUFFEUR fulltime vast contract", "heftruckchauffeur"),
        ("Ervaren Schoonmaakster 20-24 uur per week", "schoonmaker gebouwen"),
        ("Kapster", "kapper"),
        ("Afrokapster", "kapper"),
        ("Kassamedewerkster (m/v/x)", "kassamedewerker"),
        ("Receptioniste", "receptionist"),
        ("Buschauffeuse parttime", "buschauffeur"),
        ("Vrachtwagen chauffeur C/E", "vrachtwagenchauffeur"),
        ("Lasser MIG/MAG", "lasser"),
        ("Junior lasser", "lasser"),
        ("Islamitisch slager", "slager"),  # a narrower title still finds its occupation
    ],
)
def test_dutch_title_variants_find_their_occupation(
    normalizer: OccupationNormalizer, title: str, expected: str
) -> None:
    best = normalizer.normalize(title, limit=3)[0]
    assert best.preferred_label == expected, [
        h.preferred_label for h in normalizer.normalize(title)
    ]


def test_hit_carries_isco_code_matched_label_and_score(normalizer: OccupationNormalizer) -> None:
    hits = normalizer.normalize("Chauffeur heftruck (m/v)", limit=3)
    assert len(hits) == 3
    top = hits[0]
    assert top.isco_code == "8344"
    assert top.matched_label == "chauffeur heftruck"
    assert top.score == 1.0
    assert top.uri.startswith("http://data.europa.eu/esco/occupation/")
    assert hits[1].score < top.score and all(0.0 <= h.score <= 1.0 for h in hits)


def test_accents_and_case_do_not_matter(normalizer: OccupationNormalizer) -> None:
    a = normalizer.normalize("RÉCEPTIONIST", 1)[0]
    b = normalizer.normalize("receptionist", 1)[0]
    assert (a.uri, a.score) == (b.uri, b.score)


def test_a_generic_word_alone_is_a_weak_match(normalizer: OccupationNormalizer) -> None:
    assert normalizer.normalize("Medewerker", 1)[0].score < 0.6


def test_noise_only_titles_give_nothing(normalizer: OccupationNormalizer) -> None:
    assert title_words("(m/v) 32 uur fulltime") == []
    assert normalizer.normalize("(m/v) 32 uur fulltime") == []
    assert normalizer.normalize("Kapper", limit=0) == []


def test_normalizer_needs_labels() -> None:
    with pytest.raises(ValueError, match="no occupation labels"):
        OccupationNormalizer([OccupationConcept("u", "(m/v)", ("(m/v)",))])


def test_read_esco_folder_file_and_bad_input(tmp_path: Path) -> None:
    records = read_esco(SUBSET)
    assert len(records) == 26
    heftruck = next(r for r in records if r.preferred_label == "heftruckchauffeur")
    assert heftruck.isco_code == "8344" and heftruck.isco_label
    assert "chauffeur heftruck" in heftruck.alt_labels and heftruck.description
    assert len(read_esco(SUBSET / "occupations_nl.csv")) == 26
    with pytest.raises(ValueError, match="no such file"):
        read_esco(tmp_path / "missing")
    with pytest.raises(ValueError, match="no occupations"):
        read_esco(tmp_path)
    bad = tmp_path / "occupations_nl.csv"
    bad.write_text("uri,label\nx,y\n", encoding="utf-8")
    with pytest.raises(ValueError, match="missing column"):
        read_esco(tmp_path)
    bad.write_bytes(b"conceptUri,preferredLabel\n\xff\xfe,x\n")
    with pytest.raises(ValueError, match="UTF-8"):
        read_esco(bad)


def test_read_esco_gzipped_and_the_bundled_copy(tmp_path: Path) -> None:
    import gzip
    import hashlib

    folder = tmp_path / "gz"
    folder.mkdir()
    for name in ("occupations_nl.csv", "ISCOGroups_nl.csv"):
        (folder / f"{name}.gz").write_bytes(gzip.compress((SUBSET / name).read_bytes()))
    assert read_esco(folder) == read_esco(SUBSET)
    (folder / "occupations_nl.csv.gz").write_bytes(b"not gzip")
    with pytest.raises(ValueError, match=r"occupations_nl\.csv\.gz"):
        read_esco(folder)
    # the bundled ESCO NL v1.2.0 is the shared copy, unchanged (see its PROVENANCE.md)
    raw = gzip.decompress((BUNDLED_ESCO_NL / "occupations_nl.csv.gz").read_bytes())
    assert hashlib.sha256(raw).hexdigest().startswith("b3c318c3c40ba912")
    bundled = read_esco(BUNDLED_ESCO_NL)
    assert len(bundled) == 3039 and all(r.isco_label for r in bundled if r.isco_code)


def _melo(folder: Path) -> Path:
    folder.mkdir()
    files = {
        "queries.tsv": "Q1\tHeftruckchauffeur\nQ2\tKapster\nQ3\tBakker\n",
        "corpus_elements.tsv": (
            "C1_nl_000\theftruckchauffeur\nC1_nl_001\tchauffeur heftruck\n"
            "C2_nl_000\tkapper\nC2_nl_001\tkapster\n"
            "C3_nl_000\tbanketbakker\nC4_nl_000\tbakkerij medewerker\n"
        ),
        "annotations.tsv": (
            "Q1\t0\tC1_nl_000\t1\nQ1\t0\tC1_nl_001\t1\nQ2\t0\tC2_nl_000\t1\nQ3\t0\tC4_nl_000\t1\n"
        ),
        "concept_mapping.tsv": (
            "C1_nl_000\turi:heftruck\nC1_nl_001\turi:heftruck\nC2_nl_000\turi:kapper\n"
            "C2_nl_001\turi:kapper\nC3_nl_000\turi:banket\nC4_nl_000\turi:bakkerij\n"
        ),
    }
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_melo_evaluation_ranks_concepts(tmp_path: Path) -> None:
    data = load_melo(_melo(tmp_path / "melo"))
    assert [c.uri for c in data.concepts] == [
        "uri:heftruck",
        "uri:kapper",
        "uri:banket",
        "uri:bakkerij",
    ]
    assert data.gold == {"Q1": "uri:heftruck", "Q2": "uri:kapper", "Q3": "uri:bakkerij"}
    result = evaluate(data)
    # Q1 and Q2 are found first. "Bakker" prefers "banketbakker" (its head word) over the
    # annotated "bakkerij medewerker", which comes second: MRR = (1 + 1 + 1/2) / 3.
    assert result["queries"] == 3
    assert result["accuracy@1"] == pytest.approx(2 / 3, abs=1e-4)
    assert result["mrr"] == pytest.approx(2.5 / 3, abs=1e-4)
    assert result["recall@10"] == 1.0
    parts = result["by_part"]
    assert parts["tuning"]["queries"] + parts["test"]["queries"] == 3


def test_melo_loader_rejects_incomplete_folders(tmp_path: Path) -> None:
    folder = _melo(tmp_path / "melo")
    (folder / "concept_mapping.tsv").unlink()
    with pytest.raises(ValueError, match=r"missing concept_mapping\.tsv"):
        load_melo(folder)


def test_fuse_scores_rescales_the_cosine_above_its_floor() -> None:
    import numpy as np

    from matching.occupations import FusionWeights, fuse_scores

    strings = np.array([[0.6, 0.5, 0.0]])
    cosines = np.array([[0.80, 0.95, 0.84]])
    fused = fuse_scores(strings, cosines, FusionWeights(dense=0.5, dense_floor=0.85))
    # below the floor the cosine adds nothing; above it, its share of the way to 1
    np.testing.assert_allclose(fused, [[0.3, 0.25 + 0.5 * (0.1 / 0.15), 0.0]])
    assert fused.argmax() == 1  # the encoder's confident pick overtakes the string's
    with pytest.raises(ValueError, match="same shape"):
        fuse_scores(strings, cosines[:, :2])


FUSED_TITLES = [
    "Heftruckchauffeur (m/v) 32 uur",
    "Vorkheftruckbestuurder",
    "Kapster 24 uur",
    "Schoonmaakster kantoren",
    "Medewerker",
    "Magazijnmedewerker",
]


@pytest.fixture(scope="module")
def fused(normalizer: OccupationNormalizer, encoder: Encoder) -> FusedNormalizer:
    labels, _ = fusion_labels(normalizer.concepts)
    return FusedNormalizer(normalizer, encoder, encoder.embed(labels).vectors)


def test_fused_normalize_ranks_as_its_concept_scores(fused: FusedNormalizer) -> None:
    scores = fused.concept_scores(FUSED_TITLES)
    assert scores.shape == (len(FUSED_TITLES), len(fused.concepts))
    for title, row in zip(FUSED_TITLES, scores, strict=True):
        hits = fused.normalize(title, len(fused.concepts))
        order = np.argsort(-row, kind="stable")
        assert [h.uri for h in hits] == [fused.concepts[i].uri for i in order], title
        np.testing.assert_allclose(
            [h.score for h in hits], np.clip(row[order], 0, 1), atol=1e-4, err_msg=title
        )
        labels = set(fused.concepts[order[0]].labels)
        assert hits[0].matched_label in labels


def test_fused_best_concepts_is_the_argmax_above_the_threshold(fused: FusedNormalizer) -> None:
    titles = [*FUSED_TITLES, "(m/v) 32 uur"]  # the last has no words: never a concept
    scores = fused.concept_scores(titles)
    for threshold in (0.0, 0.5, 0.85, 0.99):
        best, top = fused.best_concepts(titles, threshold)
        assert best[-1] == -1 and top[-1] == 0.0
        for i in range(len(FUSED_TITLES)):
            expected = int(scores[i].argmax())
            top_score = float(np.clip(scores[i, expected], 0, 1))
            if top_score >= threshold:
                assert (best[i], top[i]) == (expected, pytest.approx(top_score))
            else:
                assert (best[i], top[i]) == (-1, 0.0)


def test_fused_normalizer_embeds_the_normalised_title(fused: FusedNormalizer) -> None:
    assert fused.query_text("Heftruckchauffeuse (m/v) 32 uur") == "heftruckchauffeur"
    assert fused.query_text("(m/v)") == "(m/v)"  # nothing left: the title as written
    same = fused.concept_scores(["Heftruckchauffeuse (m/v) 32 uur", "heftruckchauffeur"])
    np.testing.assert_allclose(same[0], same[1])


def test_fused_normalizer_refuses_vectors_that_do_not_fit(
    normalizer: OccupationNormalizer, encoder: Encoder
) -> None:
    labels, _ = fusion_labels(normalizer.concepts)
    vectors = encoder.embed(labels).vectors
    with pytest.raises(ValueError, match="label vectors for"):
        FusedNormalizer(normalizer, encoder, vectors[:-1])
    with pytest.raises(ValueError, match="dimension"):
        FusedNormalizer(normalizer, encoder, vectors[:, :-1])


def test_melo_fused_scores_are_the_service_fusion(tmp_path: Path, encoder: Encoder) -> None:
    from matching.melo import dense_scores, fused_scores
    from matching.occupations import fuse_scores

    data = load_melo(_melo(tmp_path / "melo"))
    titles = [t for _, t in data.queries]
    normalizer = OccupationNormalizer(data.concepts)
    # oracle: every label embedded on its own, each concept's best cosine by a loop
    queries = encoder.embed([normalize_title(t) for t in titles]).vectors
    dense = np.zeros((len(titles), len(data.concepts)))
    for ci, concept in enumerate(data.concepts):
        vectors = encoder.embed(list(concept.labels)).vectors
        dense[:, ci] = (queries @ vectors.T).max(axis=1)
    np.testing.assert_allclose(dense_scores(data, encoder), dense, atol=1e-5)
    expected = fuse_scores(normalizer.concept_scores(titles), dense)
    np.testing.assert_allclose(fused_scores(data, encoder), expected, atol=1e-5)


def test_threshold_curve_counts_precision_answered_and_recall(tmp_path: Path) -> None:
    from matching.melo import threshold_curve, threshold_for_precision

    data = load_melo(_melo(tmp_path / "melo"))
    index = {c.uri: i for i, c in enumerate(data.concepts)}
    n, k = len(data.queries), len(data.concepts)
    assert n >= 2 and k >= 2
    # query 0: gold on top at 0.9; query 1: a wrong concept on top at 0.6; others: nothing
    scores = np.zeros((n, k))
    gold0 = index[data.gold[data.queries[0][0]]]
    gold1 = index[data.gold[data.queries[1][0]]]
    scores[0, gold0] = 0.9
    scores[1, (gold1 + 1) % k] = 0.6
    curve = threshold_curve(data, scores, [0.5, 0.7, 0.95], part=None)
    assert [p["threshold"] for p in curve] == [0.5, 0.7, 0.95]
    assert curve[0] == {"threshold": 0.5, "precision": 0.5, "answered": 2 / n, "recall": 1 / n}
    assert curve[1] == {"threshold": 0.7, "precision": 1.0, "answered": 1 / n, "recall": 1 / n}
    assert curve[2] == {"threshold": 0.95, "precision": 0.0, "answered": 0.0, "recall": 0.0}
    assert threshold_for_precision(curve, 0.5) == 0.5
    assert threshold_for_precision(curve, 0.8) == 0.7
    assert threshold_for_precision([curve[2]], 0.1) is None


def test_each_normaliser_carries_the_thresholds_of_its_score_scale(
    fused: FusedNormalizer, normalizer: OccupationNormalizer
) -> None:
    from matching.occupations import FUSED_THRESHOLDS, STRING_THRESHOLDS

    assert normalizer.thresholds == STRING_THRESHOLDS
    assert (STRING_THRESHOLDS.link, STRING_THRESHOLDS.suggest, STRING_THRESHOLDS.infer) == (
        0.6,
        0.75,
        0.85,
    )
    assert fused.thresholds == FUSED_THRESHOLDS
    # chosen on the MELO nld tuning half (docs/evaluation.md, section 7)
    assert (FUSED_THRESHOLDS.link, FUSED_THRESHOLDS.suggest, FUSED_THRESHOLDS.infer) == (
        0.5,
        0.675,
        0.825,
    )


def test_reading_a_cv_uses_its_normalisers_suggestion_threshold(
    fused: FusedNormalizer, normalizer: OccupationNormalizer
) -> None:
    from matching.cv_suggestions import infer_occupations

    seen: list[float] = []

    class Spy:
        def __init__(self, inner: OccupationNormalizer | FusedNormalizer) -> None:
            self.inner = inner
            self.concepts = inner.concepts
            self.thresholds = inner.thresholds

        def best_concepts(self, titles: list[str], min_score: float):  # type: ignore[no-untyped-def]
            seen.append(min_score)
            return self.inner.best_concepts(titles, min_score)

    text = "Werkervaring als heftruckchauffeur"
    for inner in (normalizer, fused):
        infer_occupations(text, Spy(inner))  # type: ignore[arg-type]
    infer_occupations(text, Spy(fused), min_score=0.9)  # type: ignore[arg-type]
    assert seen == [0.75, 0.675, 0.9]


def test_isco_accuracy_counts_the_top_concepts_group(tmp_path: Path) -> None:
    from matching.melo import isco_accuracy

    data = load_melo(_melo(tmp_path / "melo"))  # concepts: heftruck, kapper, banket, bakkerij
    # Q1 -> heftruck (right concept), Q2 -> banket (wrong group), Q3 -> banket (the gold
    # bakkerij's group: right at the group level although the concept is wrong)
    scores = np.array([[0.9, 0, 0, 0], [0, 0.2, 0.5, 0], [0, 0, 0.7, 0.6]])
    isco = {
        "uri:heftruck": "8344",
        "uri:kapper": "5141",
        "uri:banket": "7512",
        "uri:bakkerij": "7512",
    }
    assert isco_accuracy(data, scores, isco) == (pytest.approx(2 / 3), 3)
    # a gold concept of unknown group is not counted; a top concept of unknown group is wrong
    del isco["uri:bakkerij"]
    assert isco_accuracy(data, scores, isco) == (0.5, 2)
    del isco["uri:banket"]
    assert isco_accuracy(data, scores, {"uri:heftruck": "8344", "uri:kapper": "5141"}) == (0.5, 2)
