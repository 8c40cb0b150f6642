"""A trained low-rank adapter on a frozen encoder's vectors, for the occupation normaliser.

The 4-bit e5 engine cannot be fine-tuned, so the adapter is trained on top of its frozen
vectors: ``x' = unit(x · (I + U Vᵀ))`` with ``U``, ``V`` (dim × rank). It is applied to the
title's vector and to every label vector before their cosine (``FusedNormalizer``); the raw
vectors (and their disk cache) are unchanged.

Training (:func:`train_adapter`, torch, CPU, seeded): in-batch contrastive loss (InfoNCE) of an
occupation's alternative and hidden labels (the *anchors*) against its preferred label (the
concept's *target*), with the targets of other occupations in the batch and of occupations in
the same ISCO-08 unit group (hard negatives) as the wrong answers. Pairs come from ESCO
(:func:`training_pairs`): ESCO, European Commission, https://esco.ec.europa.eu (© European
Union; reuse allowed with acknowledgement). Texts equal (after ``normalize_title``) to a title
the adapter is evaluated on are excluded. ``scripts/train_occupation_adapter.py`` trains the
shipped file (docs/evaluation.md, section 8).

Shipped weights: ``matching/data/occupation-adapters/<model key>.npy``, float32 of shape
(2, dim, rank) holding ``U`` and ``V``, with ``<model key>.json`` beside it (the fusion weights
chosen with it and how it was trained).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from matching.text import normalize_title

__all__ = [
    "ADAPTER_DIR",
    "OccupationAdapter",
    "TrainingPairs",
    "TrainingSettings",
    "adapter_path",
    "load_adapter",
    "shipped_adapter",
    "train_adapter",
    "training_pairs",
]

ADAPTER_DIR = Path(__file__).parent / "data" / "occupation-adapters"


def adapter_path(model_id: str) -> Path:
    """Where the adapter trained on ``model_id``'s vectors is shipped (it may not exist)."""
    return ADAPTER_DIR / f"{re.sub(r'[^A-Za-z0-9._-]', '_', model_id)}.npy"


class OccupationAdapter:
    """``x ↦ unit(x · (I + U Vᵀ))`` on float vectors of dimension ``dim``.

    Args:
        weights: float32 (2, dim, rank): ``U`` then ``V``; finite.
        meta: what the file's JSON sidecar says (fusion weights, training), may be empty.

    Raises:
        ValueError: weights of another shape, dtype or with non-finite values.
    """

    def __init__(self, weights: np.ndarray, meta: dict[str, object] | None = None) -> None:
        if not isinstance(weights, np.ndarray) or weights.dtype != np.float32:
            raise ValueError("adapter weights must be a float32 array")
        if weights.ndim != 3 or weights.shape[0] != 2 or weights.shape[2] < 1:
            raise ValueError(f"adapter weights of shape {weights.shape}, not (2, dim, rank)")
        if not np.isfinite(weights).all():
            raise ValueError("adapter weights hold non-finite values")
        self.weights = weights
        self.dim = int(weights.shape[1])
        self.rank = int(weights.shape[2])
        self.meta = dict(meta or {})
        fusion = self.meta.get("fusion")
        self.fusion: tuple[float, float] | None = None
        """(dense weight, dense floor) chosen with this adapter (``FusionWeights``), if any."""
        if isinstance(fusion, dict):
            self.fusion = (float(fusion["dense"]), float(fusion["dense_floor"]))
        limits = self.meta.get("thresholds")
        self.thresholds: tuple[float, float, float] | None = None
        """(link, suggest, infer) chosen for the adapted fused scores (``ScoreThresholds``)."""
        if isinstance(limits, dict) and all(
            isinstance(limits.get(k), int | float) for k in ("link", "suggest", "infer")
        ):
            self.thresholds = (
                float(limits["link"]),
                float(limits["suggest"]),
                float(limits["infer"]),
            )
        self.adapter_id = "adapter-" + hashlib.sha256(weights.tobytes()).hexdigest()[:12]
        u, v = weights[0].astype(np.float64), weights[1].astype(np.float64)
        self._matrix = (np.eye(self.dim) + u @ v.T).astype(np.float32)

    def apply(self, vectors: np.ndarray) -> np.ndarray:
        """float32 (n × dim) unit rows of the adapted ``vectors`` (n × dim); a row that maps
        to zero stays zero.

        Raises:
            ValueError: not a 2-d array of the adapter's dimension.
        """
        if vectors.ndim != 2 or vectors.shape[1] != self.dim:
            raise ValueError(f"vectors of shape {vectors.shape} for an adapter of dim {self.dim}")
        out = np.asarray(vectors, dtype=np.float32) @ self._matrix
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return np.ascontiguousarray(out / np.where(norms > 0, norms, 1.0), dtype=np.float32)


def load_adapter(path: Path) -> OccupationAdapter:
    """The adapter stored at ``path`` (``.npy``) with its ``.json`` sidecar when present.

    Raises:
        ValueError: no such file, or weights that do not fit (see :class:`OccupationAdapter`).
    """
    if not path.is_file():
        raise ValueError(f"no occupation adapter at {path}")
    weights = np.load(path, allow_pickle=False)
    sidecar = path.with_suffix(".json")
    meta = json.loads(sidecar.read_text(encoding="utf-8")) if sidecar.is_file() else {}
    return OccupationAdapter(weights, meta)


def shipped_adapter(model_id: str) -> OccupationAdapter | None:
    """The adapter shipped for ``model_id`` (:func:`adapter_path`), or None when there is none
    (another model, or another version of it: its id differs)."""
    path = adapter_path(model_id)
    return load_adapter(path) if path.is_file() else None


@dataclass(frozen=True)
class TrainingPairs:
    """Anchor texts, each with the index of its concept, and one target text per concept."""

    anchors: list[str]
    anchor_concept: np.ndarray  # int64 (pairs,)
    targets: list[str]  # one per concept
    target_group: list[str]  # ISCO-08 unit group per concept ("" when unknown)
    excluded: int  # label texts dropped because they equal an evaluation title
    descriptions: int = 0  # of the anchors, descriptions (the last ones)


def training_pairs(
    concepts: Iterable[tuple[str, Sequence[str]]],
    exclude: Iterable[str],
    descriptions: Sequence[str] | None = None,
) -> TrainingPairs:
    """Pairs for :func:`train_adapter` from ``(ISCO group, labels, preferred first)`` per
    occupation.

    Every label whose ``normalize_title`` form equals that of a text in ``exclude`` (the
    evaluation titles) is dropped first, and counted in ``excluded``. A concept's target is its
    first remaining label; every other remaining label is an anchor of it (labels with the same
    normalised form count once). Concepts left without an anchor give no pair but keep their
    target as a negative.

    ``descriptions`` (one per concept, "" for none) adds each concept's description as one more
    anchor of its target, after all label anchors; the target is a remaining label, so never an
    evaluation title, and a description whose ``normalize_title`` form equals one is dropped
    (and counted in ``excluded``) like a label.
    """
    banned = {normalize_title(t) for t in exclude} - {""}
    concepts = list(concepts)
    if descriptions is not None and len(descriptions) != len(concepts):
        raise ValueError("need one description per concept")
    described: list[tuple[int, str]] = []
    anchors: list[str] = []
    owner: list[int] = []
    targets: list[str] = []
    groups: list[str] = []
    excluded = 0
    for index, (group, labels) in enumerate(concepts):
        kept: dict[str, str] = {}
        for label in labels:
            form = normalize_title(label)
            if not form:
                continue
            if form in banned:
                excluded += 1
                continue
            kept.setdefault(form, label)
        texts = list(kept.values())
        if not texts:
            continue
        ci = len(targets)
        targets.append(texts[0])
        groups.append(group)
        anchors.extend(texts[1:])
        owner.extend([ci] * (len(texts) - 1))
        text = descriptions[index].strip() if descriptions is not None else ""
        if text:
            if normalize_title(text) in banned:
                excluded += 1
            else:
                described.append((ci, text))
    anchors.extend(t for _, t in described)
    owner.extend(ci for ci, _ in described)
    return TrainingPairs(
        anchors, np.asarray(owner, dtype=np.int64), targets, groups, excluded, len(described)
    )


@dataclass(frozen=True)
class TrainingSettings:
    """How :func:`train_adapter` trains; the defaults are the shipped e5 adapter's (its JSON
    records them)."""

    rank: int = 128  # of U and V
    temperature: float = 0.02  # of the InfoNCE softmax over cosines
    epochs: int = 4
    batch: int = 256  # anchors per step
    hard_negatives: int = 4  # concepts of the anchor's ISCO group added per anchor
    learning_rate: float = 1e-3  # AdamW
    weight_decay: float = 0.0
    seed: int = 15  # numpy (batches, negatives) and torch (U's start)
    symmetric: bool = False  # also each target against the batch's anchors


def train_adapter(
    anchor_vectors: np.ndarray,
    anchor_concept: np.ndarray,
    target_vectors: np.ndarray,
    target_group: Sequence[str],
    settings: TrainingSettings | None = None,
) -> np.ndarray:
    """Train ``U``, ``V`` (see the module docstring); returns float32 (2, dim, rank).

    ``anchor_vectors`` (pairs × dim) and ``target_vectors`` (concepts × dim) are the frozen
    encoder's unit vectors; ``anchor_concept`` (int64, pairs) the concept of each anchor. Each
    step takes a batch of anchors; the candidates are the distinct concepts of the batch plus
    ``hard_negatives`` concepts per anchor drawn from its ISCO group; the loss is the cross
    entropy of the anchor's own concept among them at ``temperature`` (with
    ``settings.symmetric``, averaged with the reverse loss: each of the batch's own concepts
    against the batch's anchors, its anchors the right answers). ``U`` starts at small
    seeded random values and ``V`` at zero, so training starts from the identity. The same
    inputs and settings give the same bytes (one thread, seeded numpy and torch).

    Raises:
        ValueError: inputs of mismatched shapes, or no pair.
    """
    import torch  # only training needs it

    s = settings or TrainingSettings()
    n, dim = anchor_vectors.shape
    if n == 0 or anchor_concept.shape != (n,) or target_vectors.ndim != 2:
        raise ValueError("need anchors (n × dim), their concepts (n,) and targets (k × dim)")
    if target_vectors.shape[1] != dim or len(target_group) != len(target_vectors):
        raise ValueError("targets must have the anchors' dimension and one group each")
    if anchor_concept.min() < 0 or anchor_concept.max() >= len(target_vectors):
        raise ValueError("an anchor's concept is not a target")
    rng = np.random.default_rng(s.seed)
    members: dict[str, list[int]] = {}
    for ci, g in enumerate(target_group):
        if g:
            members.setdefault(g, []).append(ci)
    peers = [np.asarray(members.get(g, []), dtype=np.int64) for g in target_group]

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        torch.manual_seed(s.seed)
        anchors = torch.from_numpy(np.ascontiguousarray(anchor_vectors, dtype=np.float32))
        targets = torch.from_numpy(np.ascontiguousarray(target_vectors, dtype=np.float32))
        u = torch.nn.Parameter(torch.randn(dim, s.rank) * 0.01)
        v = torch.nn.Parameter(torch.zeros(dim, s.rank))
        optim = torch.optim.AdamW([u, v], lr=s.learning_rate, weight_decay=s.weight_decay)

        def adapt(x: torch.Tensor) -> torch.Tensor:
            return torch.nn.functional.normalize(x + (x @ u) @ v.T, dim=1)

        for _ in range(s.epochs):
            order = rng.permutation(n)
            for start in range(0, n, s.batch):
                rows = order[start : start + s.batch]
                own = anchor_concept[rows]
                extra = [own]
                for c in own:
                    pool = peers[c][peers[c] != c]
                    if len(pool) and s.hard_negatives:
                        extra.append(rng.choice(pool, min(s.hard_negatives, len(pool)), False))
                cands, where = np.unique(np.concatenate(extra), return_inverse=True)
                gold = torch.from_numpy(where[: len(rows)].astype(np.int64))
                a = adapt(anchors[torch.from_numpy(rows)])
                t = adapt(targets[torch.from_numpy(cands)])
                logits = a @ t.T / s.temperature
                loss = torch.nn.functional.cross_entropy(logits, gold)
                if s.symmetric:
                    # the batch's own concepts, each against the batch's anchors: every
                    # anchor of that concept is a right answer (mean over them)
                    own_t = np.unique(where[: len(rows)])
                    hit = torch.from_numpy(where[: len(rows)][None, :] == own_t[:, None])
                    back = torch.log_softmax(logits.T[torch.from_numpy(own_t)], dim=1)
                    per = (back * hit).sum(1) / hit.sum(1)
                    loss = (loss - per.mean()) / 2
                optim.zero_grad()
                loss.backward()  # type: ignore[no-untyped-call]
                optim.step()
        return np.stack([u.detach().numpy(), v.detach().numpy()]).astype(np.float32)
    finally:
        torch.set_num_threads(threads)
