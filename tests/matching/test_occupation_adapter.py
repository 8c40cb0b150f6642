"""The occupation adapter: its weights' contract, seeded training, the training pairs and
their leakage guard, and the fused normaliser with and without it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from matching.embedder import HashEncoder, model_id_for
from matching.esco import read_esco
from matching.occupation_adapter import (
    OccupationAdapter,
    TrainingSettings,
    load_adapter,
    shipped_adapter,
    train_adapter,
    training_pairs,
)
from matching.occupations import (
    FUSED_THRESHOLDS,
    FusedNormalizer,
    FusionWeights,
    OccupationConcept,
    OccupationNormalizer,
    ScoreThresholds,
    fuse_scores,
    fusion_labels,
)
from service.config import DEFAULT_MODEL
from service.store.occupations import fusion_adapter

SUBSET = Path(__file__).resolve().parents[1] / "data" / "esco_subset"
TINY = TrainingSettings(rank=4, epochs=3, batch=8, hard_negatives=2)


def _unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def _weights(dim: int, rank: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(0, 0.1, (2, dim, rank)).astype(np.float32)


def _fixture() -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Six concepts in two ISCO groups; each has four noisy anchors near its target."""
    rng = np.random.default_rng(3)
    targets = _unit(rng.normal(size=(6, 12)))
    concept = np.repeat(np.arange(6, dtype=np.int64), 4)
    anchors = _unit(targets[concept] + rng.normal(0, 0.6, (len(concept), 12)))
    return anchors, concept, targets, ["1111", "1111", "1111", "2222", "2222", ""]


def test_apply_gives_unit_float32_rows_of_the_adapted_vectors() -> None:
    weights = _weights(8, 3)
    adapter = OccupationAdapter(weights)
    x = np.random.default_rng(1).normal(size=(5, 8)).astype(np.float64)
    out = adapter.apply(x)
    assert out.dtype == np.float32 and out.shape == (5, 8)
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-6)
    u, v = weights[0].astype(np.float64), weights[1].astype(np.float64)
    expected = x @ (np.eye(8) + u @ v.T)
    np.testing.assert_allclose(out, _unit(expected), atol=1e-5)
    assert adapter.apply(np.zeros((1, 8))).tolist() == [[0.0] * 8]


def test_zero_v_is_the_identity_and_the_id_follows_the_bytes() -> None:
    weights = _weights(8, 2)
    weights[1] = 0.0
    x = _unit(np.random.default_rng(2).normal(size=(3, 8)))
    np.testing.assert_allclose(OccupationAdapter(weights).apply(x), x, atol=1e-6)
    other = weights.copy()
    other[0, 0, 0] += 1.0
    assert OccupationAdapter(weights).adapter_id == OccupationAdapter(weights.copy()).adapter_id
    assert OccupationAdapter(weights).adapter_id != OccupationAdapter(other).adapter_id


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        (np.zeros((2, 8, 3), dtype=np.float64), "float32"),
        (np.zeros((8, 3), dtype=np.float32), "shape"),
        (np.zeros((3, 8, 3), dtype=np.float32), "shape"),
        (np.zeros((2, 8, 0), dtype=np.float32), "shape"),
        (np.full((2, 8, 3), np.nan, dtype=np.float32), "non-finite"),
    ],
)
def test_bad_weights_are_refused(weights: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        OccupationAdapter(weights)


def test_apply_refuses_vectors_of_another_dimension() -> None:
    with pytest.raises(ValueError, match="dim 8"):
        OccupationAdapter(_weights(8, 2)).apply(np.ones((2, 7), dtype=np.float32))
    with pytest.raises(ValueError, match="dim 8"):
        OccupationAdapter(_weights(8, 2)).apply(np.ones(8, dtype=np.float32))


def test_load_adapter_reads_weights_and_fusion(tmp_path: Path) -> None:
    path = tmp_path / "model.npy"
    with pytest.raises(ValueError, match="no occupation adapter"):
        load_adapter(path)
    np.save(path, _weights(8, 2))
    assert load_adapter(path).fusion is None
    path.with_suffix(".json").write_text('{"fusion": {"dense": 0.6, "dense_floor": 0.8}}')
    adapter = load_adapter(path)
    assert adapter.fusion == (0.6, 0.8) and adapter.rank == 2 and adapter.dim == 8


def test_training_is_deterministic_and_fits_its_pairs() -> None:
    anchors, concept, targets, groups = _fixture()
    first = train_adapter(anchors, concept, targets, groups, TINY)
    again = train_adapter(anchors, concept, targets, groups, TINY)
    assert first.dtype == np.float32 and first.shape == (2, 12, TINY.rank)
    assert first.tobytes() == again.tobytes()
    other_seed = train_adapter(
        anchors, concept, targets, groups, TrainingSettings(**{**TINY.__dict__, "seed": 16})
    )
    assert other_seed.tobytes() != first.tobytes()

    def nearest_is_own(adapter: OccupationAdapter | None) -> float:
        a = adapter.apply(anchors) if adapter else anchors
        t = adapter.apply(targets) if adapter else targets
        return float(((a @ t.T).argmax(axis=1) == concept).mean())

    longer = TrainingSettings(rank=4, epochs=60, batch=8, hard_negatives=2, learning_rate=1e-2)
    trained = OccupationAdapter(train_adapter(anchors, concept, targets, groups, longer))
    assert nearest_is_own(trained) > nearest_is_own(None)


def test_training_refuses_inputs_that_do_not_fit() -> None:
    anchors, concept, targets, groups = _fixture()
    with pytest.raises(ValueError, match="anchors"):
        train_adapter(anchors, concept[:-1], targets, groups, TINY)
    with pytest.raises(ValueError, match="dimension"):
        train_adapter(anchors, concept, targets[:, :-1], groups, TINY)
    with pytest.raises(ValueError, match="one group each"):
        train_adapter(anchors, concept, targets, groups[:-1], TINY)
    with pytest.raises(ValueError, match="not a target"):
        train_adapter(anchors, concept + 6, targets, groups, TINY)


def test_training_pairs_drop_evaluation_titles_before_pairing() -> None:
    concepts = [
        ("8344", ("heftruckchauffeur", "vorkheftruckbestuurder", "Heftruckchauffeuse")),
        ("5141", ("kapper", "Kapster (m/v)", "haarstylist")),
        ("9112", ("schoonmaker", "")),
    ]
    pairs = training_pairs(concepts, ["Haarstylist", "Vorkheftruckbestuurder 32 uur"])
    assert pairs.excluded == 2
    assert pairs.targets == ["heftruckchauffeur", "kapper", "schoonmaker"]
    assert pairs.target_group == ["8344", "5141", "9112"]
    # "Heftruckchauffeuse" and "Kapster (m/v)" are the targets' own normalised forms
    assert pairs.anchors == [] and pairs.anchor_concept.dtype == np.int64
    pairs = training_pairs(concepts, [])
    assert pairs.excluded == 0
    assert pairs.anchors == ["vorkheftruckbestuurder", "haarstylist"]
    assert pairs.anchor_concept.tolist() == [0, 1]
    # a target that is excluded gives way to the concept's next label
    assert training_pairs(concepts, ["kapper"]).targets[1] == "haarstylist"


def test_descriptions_are_anchors_of_their_target_and_obey_the_guard() -> None:
    concepts = [
        ("8344", ("heftruckchauffeur", "vorkheftruckbestuurder")),
        ("5141", ("kapper",)),
        ("9112", ("schoonmaker",)),
        ("2310", ("docent",)),
    ]
    descriptions = ["Heftruckchauffeurs rijden heftrucks.", "Knipt haar.", "Docent (m/v)", ""]
    pairs = training_pairs(concepts, ["Kapper 24 uur", "docent"], descriptions)
    # the labels "kapper" and "docent" (their concepts keep no target, so their descriptions
    # pair with nothing) and the schoonmaker's description "Docent (m/v)" are dropped
    assert pairs.excluded == 3
    assert pairs.targets == ["heftruckchauffeur", "schoonmaker"]
    assert pairs.anchors == ["vorkheftruckbestuurder", "Heftruckchauffeurs rijden heftrucks."]
    assert pairs.anchor_concept.tolist() == [0, 0] and pairs.descriptions == 1
    assert training_pairs(concepts, [], descriptions).descriptions == 3
    with pytest.raises(ValueError, match="one description per concept"):
        training_pairs(concepts, [], descriptions[:-1])


def test_symmetric_training_is_deterministic_and_differs_from_one_way() -> None:
    anchors, concept, targets, groups = _fixture()
    symmetric = TrainingSettings(**{**TINY.__dict__, "symmetric": True})
    first = train_adapter(anchors, concept, targets, groups, symmetric)
    assert first.tobytes() == train_adapter(anchors, concept, targets, groups, symmetric).tobytes()
    assert first.tobytes() != train_adapter(anchors, concept, targets, groups, TINY).tobytes()


@pytest.fixture(scope="module")
def subset_normalizer() -> OccupationNormalizer:
    return OccupationNormalizer(
        [
            OccupationConcept(
                r.uri, r.preferred_label, (r.preferred_label, *r.alt_labels), r.isco_code
            )
            for r in read_esco(SUBSET)
        ]
    )


TITLES = ["Heftruckchauffeur (m/v) 32 uur", "Kapster 24 uur", "Magazijnmedewerker"]


def test_fused_normalizer_with_an_adapter_adapts_titles_and_labels(
    subset_normalizer: OccupationNormalizer,
) -> None:
    encoder = HashEncoder(32)
    labels, owner = fusion_labels(subset_normalizer.concepts)
    raw = encoder.embed(labels).vectors.astype(np.float32)
    adapter = OccupationAdapter(_weights(32, 4), {"fusion": {"dense": 0.6, "dense_floor": 0.5}})
    plain = FusedNormalizer(subset_normalizer, encoder, raw)
    adapted = FusedNormalizer(subset_normalizer, encoder, raw, adapter=adapter)
    assert plain.model_id == encoder.model_id
    assert adapted.model_id == f"{encoder.model_id}+{adapter.adapter_id}"
    assert adapted.fusion == FusionWeights(dense=0.6, dense_floor=0.5)  # the adapter's own
    assert FusedNormalizer(subset_normalizer, encoder, raw, FusionWeights(), adapter).fusion == (
        FusionWeights()
    )
    # oracle: adapt by hand, each concept's nearest label by a loop
    queries = adapter.apply(encoder.embed([plain.query_text(t) for t in TITLES]).vectors)
    vectors = adapter.apply(raw)
    dense = np.array(
        [
            [(vectors[owner == ci] @ q).max() for ci in range(len(subset_normalizer.concepts))]
            for q in queries
        ]
    )
    np.testing.assert_allclose(adapted.dense_scores(TITLES), dense, atol=1e-5)
    expected = fuse_scores(subset_normalizer.concept_scores(TITLES), dense, adapted.fusion)
    np.testing.assert_allclose(adapted.concept_scores(TITLES), expected, atol=1e-5)
    assert not np.allclose(plain.dense_scores(TITLES), adapted.dense_scores(TITLES))
    for title, row in zip(TITLES, expected, strict=True):
        hits = adapted.normalize(title, 3)
        assert [h.uri for h in hits] == [
            subset_normalizer.concepts[i].uri for i in np.argsort(-row, kind="stable")[:3]
        ]


def test_fused_normalizer_refuses_an_adapter_of_another_dimension(
    subset_normalizer: OccupationNormalizer,
) -> None:
    labels, _ = fusion_labels(subset_normalizer.concepts)
    small = HashEncoder(16)
    with pytest.raises(ValueError, match="adapter of dimension 32"):
        FusedNormalizer(
            subset_normalizer,
            small,
            small.embed(labels).vectors,
            adapter=OccupationAdapter(_weights(32, 2)),
        )


def test_an_adapter_with_thresholds_gives_the_fused_normalizer_its_own(
    subset_normalizer: OccupationNormalizer,
) -> None:
    encoder = HashEncoder(32)
    raw = encoder.embed(fusion_labels(subset_normalizer.concepts)[0]).vectors
    meta = {"thresholds": {"link": 0.45, "suggest": 0.6, "infer": 0.8}}
    adapter = OccupationAdapter(_weights(32, 2), meta)
    fused = FusedNormalizer(subset_normalizer, encoder, raw, adapter=adapter)
    assert fused.thresholds == ScoreThresholds(link=0.45, suggest=0.6, infer=0.8)
    assert FusedNormalizer(subset_normalizer, encoder, raw).thresholds == FUSED_THRESHOLDS
    partial = OccupationAdapter(_weights(32, 2), {"thresholds": {"link": 0.45, "infer": None}})
    assert partial.thresholds is None  # all three or none


def test_the_shipped_adapter_fits_its_model() -> None:
    model_id = model_id_for(DEFAULT_MODEL)
    adapter = shipped_adapter(model_id)
    assert adapter is not None, f"no adapter shipped for {model_id}"
    assert adapter.weights.dtype == np.float32 and adapter.dim == 384
    assert adapter.fusion is not None and adapter.thresholds is not None
    assert adapter.meta["adapter"] == adapter.adapter_id  # the JSON describes these weights
    assert shipped_adapter(model_id + "-other") is None
    assert fusion_adapter(True, HashEncoder(384)) is None
    assert fusion_adapter(False, None) is None
