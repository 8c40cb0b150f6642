"""Normalise free-text (Dutch) job titles to ESCO occupations.

``OccupationNormalizer`` indexes the labels (preferred, alternative, hidden) of a set of
occupation concepts and ranks the concepts for a title. A label's score is a weighted sum of
three signals over the *normalised* title and label (``normalize_title``: case, accents,
gender markers, hours and contract noise, seniority words, feminine forms):

- ``label_coverage``: the IDF weight of the label's words that occur in the title, over the
  label's total IDF weight. A title that contains a label ("islamitisch slager" ⊇ "slager")
  scores 1, which fits titles that are narrower than the ESCO concept.
- ``title_coverage``: the same from the title's side (how much of the title the label explains).
- ``char_ngrams``: cosine of sublinear TF-IDF vectors of character 2–4-grams (within words), which
  survives typos, inflection and compounds that do not split.

Words are split into compound parts whose head is a word of the label vocabulary
("afrokapper" → "afrokapper", "afro", "kapper"; "heftruckchauffeur" → ..., "heftruck",
"chauffeur"), and the parts count as words, so compounds and their two-word forms
("chauffeur heftruck") meet. A concept scores as its best label; the preferred label gets a
small bonus so that ties between concepts sharing a label go to the one it names, and ISCO
group concepts (when indexed) a small malus, because a specific occupation is the better answer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import ClassVar

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from matching.embedder import Encoder
from matching.occupation_adapter import OccupationAdapter
from matching.text import COMPOUND_HEADS, GENERIC_TERMS, normalize_title

__all__ = [
    "FUSED_THRESHOLDS",
    "STRING_THRESHOLDS",
    "FusedNormalizer",
    "FusionWeights",
    "NormalizerWeights",
    "OccupationConcept",
    "OccupationHit",
    "OccupationNormalizer",
    "ScoreThresholds",
    "fuse_scores",
    "fusion_labels",
    "title_words",
]

_WORD_RE = re.compile(r"[^\W\d_]+")
# Function words only: occupation words such as "medewerker" carry meaning here (IDF weighs them).
_STOPWORDS = frozenset(
    [
        "de",
        "het",
        "een",
        "van",
        "en",
        "in",
        "op",
        "voor",
        "met",
        "bij",
        "aan",
        "of",
        "te",
        "tot",
        "uit",
        "der",
        "den",
    ]
)
_MIN_HEAD = 4
# A verb particle in front of a head makes a word of its own ("medewerker", "verwerker").
_PARTICLES = frozenset(
    ["ver", "ont", "her", "mede", "over", "onder", "voor", "door", "aan", "uit", "mee", "bij",
     "toe", "weg", "terug", "samen", "be", "ge"]
)  # fmt: skip
_KNOWN_WHOLE = frozenset(COMPOUND_HEADS) | GENERIC_TERMS
_MIN_PREFIX = 3
_BATCH = 256
GENERIC_ONLY_FACTOR = 0.5
"""Scores of a title made only of generic words ("medewerker", "hulp") are scaled by this:
such a title does not say which occupation is meant, whatever label it matches."""


@dataclass(frozen=True)
class NormalizerWeights:
    """How the label signals combine; the defaults were chosen on MELO ``nld_q_nl_c_nl``."""

    label_coverage: float = 0.4
    title_coverage: float = 0.2
    char_ngrams: float = 0.4
    preferred_bonus: float = 0.01
    group_malus: float = 0.02
    char_ngram_range: tuple[int, int] = (2, 4)


@dataclass(frozen=True)
class ScoreThresholds:
    """The lowest top-1 score at which a normaliser's answer is used, per use. Scores of the
    string and the fused normaliser are on different scales, so each has its own
    (:attr:`OccupationNormalizer.thresholds`)."""

    link: float
    """A stated occupation or vacancy title is linked to its best occupation."""
    suggest: float
    """A CV line is proposed as a desired occupation (``matching.cv_suggestions``)."""
    infer: float
    """An occupation read from a text is stored (``inferred_occupations``): nobody confirms it."""


STRING_THRESHOLDS = ScoreThresholds(link=0.6, suggest=0.75, infer=0.85)
"""Set by hand for the string normaliser's scores (precision of its top-1 on the MELO nld
tuning half at these: 0.55, 0.70, 0.79)."""
FUSED_THRESHOLDS = ScoreThresholds(link=0.5, suggest=0.675, infer=0.825)
"""For the fused scores: per use, the lowest score (0.025 steps) at which the fused top-1 is
at least as precise on the MELO nld tuning half as the string top-1 at its threshold
(docs/evaluation.md, section 7)."""


@dataclass(frozen=True)
class OccupationConcept:
    """One target concept: an ESCO occupation (or an ISCO group) with its labels.

    ``labels`` must start with the preferred label; the others are alternative/hidden labels.
    """

    uri: str
    preferred_label: str
    labels: tuple[str, ...]
    isco_code: str | None = None
    is_group: bool = False


@dataclass(frozen=True)
class OccupationHit:
    """A ranked concept for a title: the label that matched best and its score in [0, 1]."""

    uri: str
    preferred_label: str
    isco_code: str | None
    matched_label: str
    score: float


def title_words(title: str) -> list[str]:
    """The words of a normalised title, without function words (no compound splitting)."""
    words = _WORD_RE.findall(normalize_title(title))
    # One-letter leftovers ("2e graads" -> "e") are noise.
    return [w for w in words if len(w) > 1 and w not in _STOPWORDS]


class OccupationNormalizer:
    """Ranks occupation concepts for free-text job titles (see the module docstring)."""

    method: ClassVar[str] = "string"
    """What ranks the concepts (``FusedNormalizer`` says "fused")."""
    thresholds: ClassVar[ScoreThresholds] = STRING_THRESHOLDS
    """The scores at which its answers are used (they depend on the score scale)."""

    def __init__(
        self,
        concepts: Sequence[OccupationConcept],
        weights: NormalizerWeights | None = None,
    ) -> None:
        """Index every non-empty label of every concept.

        Raises:
            ValueError: no concept has a label with a word in it.
        """
        self.weights = weights or NormalizerWeights()
        self.concepts = tuple(concepts)
        label_text: list[str] = []
        label_words: list[list[str]] = []
        owner: list[int] = []
        preferred: list[bool] = []
        for ci, concept in enumerate(self.concepts):
            seen: set[tuple[str, ...]] = set()
            for li, label in enumerate(concept.labels):
                words = title_words(label)
                key = tuple(words)
                if not words or key in seen:
                    continue
                seen.add(key)
                label_text.append(label)
                label_words.append(words)
                owner.append(ci)
                preferred.append(li == 0)
        if not label_text:
            raise ValueError("no occupation labels to index")
        self._label_text = label_text
        self._owner = np.asarray(owner, dtype=np.int64)
        heads = {w for words in label_words for w in words if len(w) >= _MIN_HEAD}
        self._heads = frozenset(heads | set(COMPOUND_HEADS))
        self._parts = lru_cache(maxsize=65536)(self._split)
        label_tokens = [self._tokens(words) for words in label_words]

        self._token_vec = TfidfVectorizer(
            analyzer=_identity, binary=True, norm=None, use_idf=True, lowercase=False
        ).fit(label_tokens)
        self._idf = self._token_vec.idf_
        binary = self._binary(label_tokens)
        self._label_binary_t = binary.T.tocsr()
        self._label_mass = np.asarray(binary.multiply(self._idf).sum(axis=1)).ravel()

        self._char_vec = TfidfVectorizer(
            analyzer="char_wb",
            ngram_range=self.weights.char_ngram_range,
            sublinear_tf=True,
            lowercase=False,
        ).fit([" ".join(w) for w in label_words])
        self._label_chars_t = self._char_vec.transform([" ".join(w) for w in label_words]).T.tocsr()

        w = self.weights
        group = np.array([self.concepts[c].is_group for c in owner], dtype=bool)
        self._prior = w.preferred_bonus * np.asarray(preferred, float) - w.group_malus * group

    def __len__(self) -> int:
        return len(self.concepts)

    # -- tokenising ------------------------------------------------------------------------

    def _split(self, word: str) -> tuple[str, ...]:
        """Compound parts of a word, split at the longest head of the label vocabulary."""
        if word in _KNOWN_WHOLE:
            return (word,)
        for i in range(_MIN_PREFIX, len(word) - _MIN_HEAD + 1):
            head = word[i:]
            prefix = word[:i]
            if head not in self._heads or prefix in _PARTICLES:
                continue
            # A linking "s" ("beveiligingsbeambte") only goes when what is left is a word.
            if prefix.endswith("s") and prefix[:-1] in self._heads:
                prefix = prefix[:-1]
            rest = self._parts(prefix) if len(prefix) >= _MIN_PREFIX else ()
            return (*rest, head)
        return (word,)

    def _tokens(self, words: Sequence[str]) -> list[str]:
        out: list[str] = []
        for word in words:
            out.extend(self._parts(word))
        return out

    def _binary(self, token_lists: Sequence[Sequence[str]]) -> sp.csr_matrix:
        m = self._token_vec.transform(token_lists).tocsr()
        m.data[:] = 1.0
        return m

    # -- scoring ---------------------------------------------------------------------------

    def label_signals(self, titles_words: Sequence[list[str]]) -> dict[str, np.ndarray]:
        """titles x labels matrices of each signal (for scoring and for fitting weights)."""
        tokens = [self._tokens(words) for words in titles_words]
        title_weighted = self._binary(tokens).multiply(self._idf).tocsr()
        shared = (title_weighted @ self._label_binary_t).toarray()
        title_mass = np.asarray(title_weighted.sum(axis=1)).ravel()
        chars = self._char_vec.transform([" ".join(words) for words in titles_words])
        return {
            "label_coverage": shared / np.maximum(self._label_mass, 1e-9)[None, :],
            "title_coverage": shared / np.maximum(title_mass, 1e-9)[:, None],
            "char_ngrams": (chars @ self._label_chars_t).toarray(),
        }

    def _label_scores(self, titles_words: Sequence[list[str]]) -> np.ndarray:
        """titles x labels matrix of label scores (before the concept maximum)."""
        w = self.weights
        signals = self.label_signals(titles_words)
        scores = (
            w.label_coverage * signals["label_coverage"]
            + w.title_coverage * signals["title_coverage"]
            + w.char_ngrams * signals["char_ngrams"]
        )
        generic = [self._generic_only(words) for words in titles_words]
        scores[generic, :] *= GENERIC_ONLY_FACTOR
        return scores

    def _generic_only(self, words: Sequence[str]) -> bool:
        return all(part in GENERIC_TERMS for part in self._tokens(words))

    def concept_scores(self, titles: Sequence[str]) -> np.ndarray:
        """titles x concepts matrix: each concept's best label score, prior included.

        Rows of titles with no words after normalisation are all zero.
        """
        out = np.zeros((len(titles), len(self.concepts)))
        words = [title_words(t) for t in titles]
        for start in range(0, len(titles), _BATCH):
            batch = words[start : start + _BATCH]
            scores = self._label_scores(batch) + self._prior[None, :]
            block = np.full((len(batch), len(self.concepts)), -np.inf)
            np.maximum.at(block.T, self._owner, scores.T)
            block[~np.isfinite(block)] = 0.0
            block[[not w for w in batch], :] = 0.0
            out[start : start + len(batch)] = block
        return out

    def best_concepts(
        self, titles: Sequence[str], min_score: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Each title's best concept, as ``concept_scores(titles)`` ranks them, when its score
        reaches ``min_score`` (sparse: only labels sharing a word with the title are scored).

        A label that shares no word scores at most ``char_ngrams + preferred_bonus`` (0.41 by
        default); above that bound the result equals the dense one, below it the dense path
        is taken. Reading a CV proposes dozens of short titles, which this keeps cheap.

        Returns:
            (concept index int64 (n,), -1 where no concept reaches ``min_score``;
            score float64 (n,), clipped to [0, 1], 0 where the index is -1).
        """
        n = len(titles)
        best_c = np.full(n, -1, dtype=np.int64)
        best_s = np.zeros(n, dtype=np.float64)
        w = self.weights
        if min_score <= w.char_ngrams + max(w.preferred_bonus, 0.0):
            dense = self.concept_scores(titles)
            if len(self.concepts) and n:
                arg = dense.argmax(axis=1)
                top = np.clip(dense[np.arange(n), arg], 0.0, 1.0)
                ok = top >= min_score
                best_c[ok], best_s[ok] = arg[ok], top[ok]
            return best_c, best_s
        words = [title_words(t) for t in titles]
        rows = np.array([i for i, ws in enumerate(words) if ws], dtype=np.int64)
        if not len(rows):
            return best_c, best_s
        kept = [words[i] for i in rows]
        weighted = self._binary([self._tokens(ws) for ws in kept]).multiply(self._idf).tocsr()
        shared = (weighted @ self._label_binary_t).tocoo()
        r, lab, sh = shared.row, shared.col, shared.data
        if not len(r):
            return best_c, best_s
        title_mass = np.asarray(weighted.sum(axis=1)).ravel()
        generic = np.array([self._generic_only(ws) for ws in kept], dtype=bool)
        factor = np.where(generic[r], GENERIC_ONLY_FACTOR, 1.0)
        words_part = w.label_coverage * sh / np.maximum(
            self._label_mass[lab], 1e-9
        ) + w.title_coverage * sh / np.maximum(title_mass[r], 1e-9)
        # the character signal is at most 1: pairs that cannot reach min_score even so are
        # dropped before it is computed (most pairs share only a word such as "medewerker")
        reach = (words_part + w.char_ngrams) * factor + self._prior[lab] >= min_score
        r, lab, words_part, factor = r[reach], lab[reach], words_part[reach], factor[reach]
        if not len(r):
            return best_c, best_s
        if getattr(self, "_label_chars", None) is None:
            self._label_chars = self._label_chars_t.T.tocsr()
        chars = self._char_vec.transform([" ".join(ws) for ws in kept]).tocsr()
        cosine = np.asarray(chars[r].multiply(self._label_chars[lab]).sum(axis=1)).ravel()
        score = (words_part + w.char_ngrams * cosine) * factor + self._prior[lab]
        # per title: the highest score, the earliest label (so the earliest concept) on a tie
        order = np.lexsort((lab, -score, r))
        first = order[np.r_[True, r[order][1:] != r[order][:-1]]]
        top = np.clip(score[first], 0.0, 1.0)
        ok = top >= min_score
        target = rows[r[first][ok]]
        best_c[target] = self._owner[lab[first][ok]]
        best_s[target] = top[ok]
        return best_c, best_s

    def best_labels(self, title: str) -> tuple[np.ndarray, np.ndarray]:
        """Per concept, its best label for ``title`` and that label's score (prior included).

        Returns:
            (label index int64 (concepts,), index into :attr:`label_texts`, -1 for a concept
            without an indexed label; score float64 (concepts,), -inf there). All -1 / -inf
            when the title has no words.
        """
        best_label = np.full(len(self.concepts), -1, dtype=np.int64)
        best_score = np.full(len(self.concepts), -np.inf)
        words = title_words(title)
        if not words:
            return best_label, best_score
        label_scores = self._label_scores([words])[0] + self._prior
        # Labels are grouped by concept in order, so the first maximum is the earliest label.
        order = np.lexsort((np.arange(len(label_scores)), -label_scores))
        # Each concept's best label is its first in that order (np.unique gives first indices).
        owners, first = np.unique(self._owner[order], return_index=True)
        best_label[owners] = order[first]
        best_score[owners] = label_scores[order[first]]
        return best_label, best_score

    @property
    def label_texts(self) -> list[str]:
        """The indexed labels (those with words, one per word sequence per concept)."""
        return self._label_text

    def normalize(self, title: str, limit: int = 5) -> list[OccupationHit]:
        """The ``limit`` best concepts for ``title``, best first ([] when it has no words).

        Ties keep the concepts' input order. Scores are clipped to [0, 1].
        """
        if not title_words(title) or limit < 1:
            return []
        best_label, best_score = self.best_labels(title)
        ranked = np.argsort(-best_score, kind="stable")[:limit]
        hits = []
        for ci in ranked:
            if best_label[ci] < 0:
                break
            concept = self.concepts[ci]
            hits.append(
                OccupationHit(
                    uri=concept.uri,
                    preferred_label=concept.preferred_label,
                    isco_code=concept.isco_code,
                    matched_label=self._label_text[best_label[ci]],
                    score=round(float(np.clip(best_score[ci], 0.0, 1.0)), 4),
                )
            )
        return hits


def _identity(tokens: list[str]) -> list[str]:
    return tokens


@dataclass(frozen=True)
class FusionWeights:
    """How the string normaliser's concept scores and an encoder's combine (``fuse_scores``);
    chosen on the MELO ``nld_q_nl_c_nl`` tuning half (docs/evaluation.md)."""

    dense: float = 0.7
    dense_floor: float = 0.85


def fuse_scores(
    string_scores: np.ndarray, dense_scores: np.ndarray, fusion: FusionWeights | None = None
) -> np.ndarray:
    """(titles × concepts) fused scores, float64.

    ``string_scores`` are :meth:`OccupationNormalizer.concept_scores`; ``dense_scores`` the
    cosine of a title's vector and each concept's nearest label vector. The cosine is rescaled
    monotonically to ``clip((cosine - dense_floor) / (1 - dense_floor), 0, 1)`` (an encoder's
    cosines of unrelated short texts sit far above 0), then
    ``(1 - dense) · string + dense · rescaled``. Both inputs must have the same shape.
    """
    fusion = fusion or FusionWeights()
    if string_scores.shape != dense_scores.shape:
        raise ValueError("string and dense scores must have the same shape")
    span = 1.0 - fusion.dense_floor
    rescaled = np.clip((dense_scores.astype(np.float64) - fusion.dense_floor) / span, 0.0, 1.0)
    return (1.0 - fusion.dense) * string_scores + fusion.dense * rescaled


def fusion_labels(concepts: Sequence[OccupationConcept]) -> tuple[list[str], np.ndarray]:
    """The label texts an encoder embeds for :class:`FusedNormalizer`, concept by concept
    (every label of every concept, as given), and the index of each label's concept (int64).

    Raises:
        ValueError: a concept has no label (its nearest label would be undefined).
    """
    texts: list[str] = []
    owner: list[int] = []
    for ci, concept in enumerate(concepts):
        if not concept.labels:
            raise ValueError(f"occupation {concept.uri} has no label")
        texts.extend(concept.labels)
        owner.extend([ci] * len(concept.labels))
    return texts, np.asarray(owner, dtype=np.int64)


class FusedNormalizer:
    """The string normaliser fused with an encoder's nearest-label cosine (``fuse_scores``).

    Same interface as :class:`OccupationNormalizer` (``concepts``, ``concept_scores``,
    ``best_concepts``, ``normalize``), so the service and the MELO evaluation rank with one
    code path. Each title is embedded with ``encoder`` (one call per batch of titles) and
    compared with every label vector; a concept's dense score is its nearest label's cosine.
    With an ``adapter`` (``matching.occupation_adapter``) the title's and the labels' vectors
    are both adapted before the cosine; ``model_id`` then names the adapter too.
    """

    method: ClassVar[str] = "fused"
    thresholds: ScoreThresholds = FUSED_THRESHOLDS
    """``FUSED_THRESHOLDS``, or those chosen with the adapter (its scores' scale differs)."""

    def __init__(
        self,
        normalizer: OccupationNormalizer,
        encoder: Encoder,
        label_vectors: np.ndarray,
        fusion: FusionWeights | None = None,
        adapter: OccupationAdapter | None = None,
    ) -> None:
        """``label_vectors``: float32 (labels × dim), unit rows, one per text of
        ``fusion_labels(normalizer.concepts)`` in that order, embedded by ``encoder`` (raw:
        the adapter, when given, is applied here). ``fusion`` defaults to the adapter's own
        weights (chosen with it), else to :class:`FusionWeights`; ``thresholds`` are the
        adapter's own when it has them.

        Raises:
            ValueError: the vectors or the adapter do not fit the labels or the encoder's
                dimension.
        """
        texts, owner = fusion_labels(normalizer.concepts)
        if label_vectors.ndim != 2 or label_vectors.shape[0] != len(texts):
            raise ValueError(
                f"{label_vectors.shape} label vectors for {len(texts)} occupation labels"
            )
        if label_vectors.shape[1] != encoder.dim:
            raise ValueError(
                f"label vectors of dimension {label_vectors.shape[1]}, not {encoder.dim}"
            )
        if adapter is not None and adapter.dim != encoder.dim:
            raise ValueError(f"an adapter of dimension {adapter.dim}, not {encoder.dim}")
        self.normalizer = normalizer
        self.encoder = encoder
        self.adapter = adapter
        self.model_id = encoder.model_id + (f"+{adapter.adapter_id}" if adapter else "")
        if fusion is None and adapter is not None and adapter.fusion is not None:
            fusion = FusionWeights(*adapter.fusion)
        self.fusion = fusion or FusionWeights()
        if adapter is not None and adapter.thresholds is not None:
            self.thresholds = ScoreThresholds(*adapter.thresholds)
        self.concepts = normalizer.concepts
        self._label_text = texts
        self._label_vectors = self._adapted(label_vectors)
        self._owner = owner
        self._starts = np.searchsorted(owner, np.arange(len(self.concepts)))

    def __len__(self) -> int:
        return len(self.concepts)

    @staticmethod
    def query_text(title: str) -> str:
        """The text embedded for ``title``: its ``normalize_title`` form (no gender markers,
        hours, contract words, seniority; base forms of feminine titles), or the title itself
        when nothing is left. Labels are embedded as written."""
        return normalize_title(title) or title

    def _adapted(self, vectors: np.ndarray) -> np.ndarray:
        if self.adapter is not None:
            return self.adapter.apply(vectors)
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def _title_vectors(self, titles: Sequence[str]) -> np.ndarray:
        return self._adapted(self.encoder.embed([self.query_text(t) for t in titles]).vectors)

    def dense_scores(self, titles: Sequence[str]) -> np.ndarray:
        """(titles × concepts) float32 cosine of each title and each concept's nearest label."""
        out = np.empty((len(titles), len(self.concepts)), dtype=np.float32)
        if not len(titles):
            return out
        vectors = self._title_vectors(titles)
        for start in range(0, len(titles), _BATCH):  # bounds the (batch × labels) matrix
            sims = vectors[start : start + _BATCH] @ self._label_vectors.T
            out[start : start + _BATCH] = np.maximum.reduceat(sims, self._starts, axis=1)
        return out

    def _nearest(self, title: str) -> tuple[np.ndarray, np.ndarray]:
        """Per concept: its nearest label to ``title`` (index into ``fusion_labels``, the
        earliest on a tie) and that cosine (float32)."""
        sims = self._title_vectors([title])[0] @ self._label_vectors.T
        order = np.lexsort((np.arange(len(sims)), -sims))
        owners, first = np.unique(self._owner[order], return_index=True)
        nearest = np.empty(len(self.concepts), dtype=np.int64)
        nearest[owners] = order[first]
        return nearest, sims[nearest]

    def concept_scores(self, titles: Sequence[str]) -> np.ndarray:
        """titles x concepts fused scores (float64), as ``fuse_scores`` computes them."""
        return fuse_scores(
            self.normalizer.concept_scores(titles), self.dense_scores(titles), self.fusion
        )

    def best_concepts(
        self, titles: Sequence[str], min_score: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Each title's best concept by the fused score when it reaches ``min_score``, as
        :meth:`OccupationNormalizer.best_concepts` returns it (a title without words: -1)."""
        n = len(titles)
        best_c = np.full(n, -1, dtype=np.int64)
        best_s = np.zeros(n, dtype=np.float64)
        rows = [i for i, t in enumerate(titles) if title_words(t)]
        if not rows or not len(self.concepts):
            return best_c, best_s
        scores = self.concept_scores([titles[i] for i in rows])
        arg = scores.argmax(axis=1)  # the earliest concept on a tie
        top = np.clip(scores[np.arange(len(rows)), arg], 0.0, 1.0)
        ok = top >= min_score
        target = np.asarray(rows, dtype=np.int64)[ok]
        best_c[target], best_s[target] = arg[ok], top[ok]
        return best_c, best_s

    def normalize(self, title: str, limit: int = 5) -> list[OccupationHit]:
        """The ``limit`` best concepts for ``title`` by the fused score, best first ([] when
        the title has no words); ties keep the concepts' order, scores are clipped to [0, 1].

        ``matched_label`` is the label whose signal gave the larger part of the fused score:
        the string normaliser's best label, or the nearest label by cosine.
        """
        if not title_words(title) or limit < 1:
            return []
        string_label, string_score = self.normalizer.best_labels(title)
        string_score = np.where(np.isfinite(string_score), string_score, 0.0)
        nearest, cosine = self._nearest(title)
        fused = fuse_scores(string_score[None, :], cosine[None, :], self.fusion)[0]
        f = self.fusion
        dense_part = f.dense * np.clip((cosine - f.dense_floor) / (1.0 - f.dense_floor), 0, 1)
        ranked = np.argsort(-fused, kind="stable")[:limit]
        hits = []
        for ci in ranked:
            concept = self.concepts[ci]
            string_part = (1.0 - f.dense) * string_score[ci]
            if string_label[ci] >= 0 and string_part >= dense_part[ci]:
                matched = self.normalizer.label_texts[string_label[ci]]
            else:
                matched = self._label_text[nearest[ci]]
            hits.append(
                OccupationHit(
                    uri=concept.uri,
                    preferred_label=concept.preferred_label,
                    isco_code=concept.isco_code,
                    matched_label=matched,
                    score=round(float(np.clip(fused[ci], 0.0, 1.0)), 4),
                )
            )
        return hits
