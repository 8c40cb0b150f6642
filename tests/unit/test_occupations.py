"""The ESCO occupation normaliser on Dutch title variants, the ESCO CSV reader and the MELO
evaluation, on a small subset of ESCO NL (tests/data/esco_subset)."""

from __future__ import annotations

from pathlib import Path

import pytest

from matching.esco import BUNDLED_ESCO_NL, read_esco
from matching.melo import evaluate, load_melo
from matching.occupations import OccupationConcept, OccupationNormalizer, title_words

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
