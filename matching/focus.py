"""Fuzzy job-title similarity and matching of titles against a list of focus occupations.

A focus occupation is an occupation a public employment service gives priority to (for example
because of a regional shortage). ``FocusMatcher`` tells which focus occupations a set of job
titles (a vacancy's title, a candidate's desired occupations) belongs to.

How two titles are compared (``title_similarity``), after ``normalize_title`` and
``split_compounds`` on both sides:

- ``ratio`` of the two normalised titles (catches typos inside a compound word);
- ``ratio`` of their sorted content tokens (word order and compound splitting do not matter:
  "magazijnmedewerker" = "medewerker magazijn");
- when the titles share a generic token, that best score is capped by how well their *specific*
  (non-generic) tokens agree, so a shared "medewerker" cannot make "schoonmaakmedewerker" look
  like "magazijnmedewerker"; a title of generic words only is at most ``GENERIC_ONLY_CAP``
  similar to a title with specific words;
- a containment bonus: when one title's tokens all occur in the other ("heftruckchauffeur" in
  "heftruckchauffeur voor ons distributiecentrum") and at least one of them is specific, the
  score is at least ``0.9 + 0.1 * best``. Containment may not cut a compound ("chauffeur" is not
  contained in "heftruckchauffeur" nor in "chauffeur heftruck") unless the parts left out are
  generic ("kok" is contained in "hulpkok" and in "kok in opleiding").
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

import numpy as np
from rapidfuzz import fuzz, process

from matching.text import (
    COMPOUND_HEADS,
    GENERIC_TERMS,
    STOPWORDS,
    normalize_title,
    split_compounds,
)

__all__ = [
    "GENERIC_ONLY_CAP",
    "FocusHit",
    "FocusMatcher",
    "FocusOccupation",
    "LinkedOccupation",
    "title_similarity",
]

GENERIC_ONLY_CAP = 0.4
"""Highest similarity between a title of only generic words and a title with specific words.

Kept below the ranking's occupation floor: "Medewerker" tells nothing about the occupation.
"""
_CONTAINED_BASE = 0.9
_HEADS = frozenset(COMPOUND_HEADS)


@dataclass(frozen=True)
class FocusOccupation:
    """A focus occupation: a stable slug, a display name, alternative titles and ESCO URIs.

    A title belongs to it when it fuzzy-matches the name or a synonym, or when the ESCO
    occupation the title was linked to (by the occupation normaliser, at write time) is one of
    ``esco_uris``.
    """

    slug: str
    name: str
    synonyms: tuple[str, ...] = ()
    esco_uris: tuple[str, ...] = ()


class LinkedOccupation(Protocol):
    """An ESCO link of a title (``matching.profiles.EscoLink`` satisfies it)."""

    @property
    def uri(self) -> str: ...
    @property
    def label(self) -> str: ...
    @property
    def score(self) -> float: ...


@dataclass(frozen=True)
class FocusHit:
    """A focus occupation recognised in one of the given titles or ESCO links."""

    slug: str
    name: str
    label: str  # the focus name or synonym, or the ESCO preferred label, that matched
    matched: str  # the input title (original spelling) or ESCO URI that matched
    score: float  # 0..1: title similarity, or the ESCO link's normalisation score
    # "title": fuzzy name/synonym match; "esco": ESCO link in esco_uris; "cv": an occupation
    # read from the text (``matched`` is then the words it was read from)
    via: str = "title"


@dataclass(frozen=True)
class _Prepared:
    norm: str  # normalize_title output
    sort_key: str  # content tokens, sorted, single-spaced
    tokens: frozenset[str]
    specific: frozenset[str]  # tokens minus GENERIC_TERMS
    spec_sorted: str
    spec_compact: str  # specific tokens in title order, joined without spaces
    groups: tuple[frozenset[str], ...]  # tokens that belong together (compounds)


_EMPTY = _Prepared("", "", frozenset(), frozenset(), "", "", ())


@lru_cache(maxsize=16384)
def _prepare(title: str) -> _Prepared:
    norm = normalize_title(title)
    if not norm:
        return _EMPTY
    # Slashes separate alternatives ("monteur/elektricien"), hyphens join a compound.
    words: list[str] = []
    slash_after: list[bool] = []  # word i and i+1 are alternatives, not a phrase
    for chunk in norm.split(" "):
        pieces = [p for p in chunk.split("/") if p]
        words.extend(pieces)
        slash_after.extend([True] * (len(pieces) - 1) + [False] * bool(pieces))
    word_parts = [tuple(split_compounds(w).split(" ")) for w in words]
    tokens: list[str] = []
    groups: list[frozenset[str]] = []
    for i, (word, parts) in enumerate(zip(words, word_parts, strict=True)):
        if len(parts) == 1 and word in STOPWORDS:
            continue  # compound parts are never dropped: "team" in "teamleider" matters
        tokens.extend(parts)
        if len(parts) > 1:
            groups.append(frozenset(parts))
        # Dutch also writes a compound inverted as two words: "chauffeur heftruck",
        # "medewerker magazijn". Treat head + following noun as one unit for containment.
        if word in _HEADS and i + 1 < len(words) and not slash_after[i]:
            nxt, nxt_parts = words[i + 1], word_parts[i + 1]
            if nxt not in STOPWORDS and nxt not in _HEADS:
                groups.append(frozenset((word, *nxt_parts)))
    specific = [t for t in tokens if t not in GENERIC_TERMS]
    return _Prepared(
        norm=norm,
        sort_key=" ".join(sorted(tokens)),
        tokens=frozenset(tokens),
        specific=frozenset(specific),
        spec_sorted=" ".join(sorted(specific)),
        spec_compact="".join(specific),
        groups=tuple(groups),
    )


def _contained(small: _Prepared, big: _Prepared) -> bool:
    """All of ``small``'s tokens occur in ``big`` without cutting one of ``big``'s compounds.

    Cutting is taking part of a compound whose missing parts are not all generic:
    "chauffeur" cuts "heftruck chauffeur"; "kok" does not cut "hulp kok".
    """
    if not small.specific & big.specific or not small.tokens <= big.tokens:
        return False
    for group in big.groups:
        if group & small.tokens and not (group - small.tokens) <= GENERIC_TERMS:
            return False
    return True


def _ratio(a: str, b: str) -> float:
    return fuzz.ratio(a, b) / 100.0 if a and b else 0.0


def _similarity(a: _Prepared, b: _Prepared) -> float:
    if not a.norm or not b.norm:
        return 0.0
    if a.norm == b.norm:
        return 1.0
    best = max(_ratio(a.norm, b.norm), _ratio(a.sort_key, b.sort_key))
    if a.specific and b.specific:
        # Only a shared generic token can inflate the ratios; without one a typo in a head
        # ("magazijnmedewerkr", which then does not split) must not be held against the title.
        if a.tokens & b.tokens & GENERIC_TERMS:
            cap = max(_ratio(a.spec_sorted, b.spec_sorted), _ratio(a.spec_compact, b.spec_compact))
        else:
            cap = 1.0
    elif a.specific or b.specific:
        cap = GENERIC_ONLY_CAP
    else:
        cap = 1.0
    score = min(best, cap)
    if _contained(a, b) or _contained(b, a):
        score = max(score, _CONTAINED_BASE + (1.0 - _CONTAINED_BASE) * best)
    return min(1.0, max(0.0, score))


def title_similarity(a: str, b: str) -> float:
    """Similarity of two job titles in [0, 1], symmetric.

    1.0 when the normalised titles are equal ("Heftruckchauffeur (m/v) 32 uur" and
    "heftruckchauffeur"). Word order and compound splitting do not matter
    ("heftruckchauffeur" ~ "chauffeur heftruck" = 1.0); extra words in one title still score
    at least 0.9 when the other title is contained in it; small typos stay high. A shared
    generic part ("medewerker") alone does not make titles similar. 0.0 when either title
    is empty after normalisation. See the module docstring for the exact recipe.
    """
    return _similarity(_prepare(a), _prepare(b))


@dataclass(frozen=True)
class _Label:
    occupation: int  # index into FocusMatcher.occupations
    text: str  # original spelling
    prepared: _Prepared


class FocusMatcher:
    """Recognises focus occupations in job titles by fuzzy title similarity."""

    def __init__(self, occupations: Sequence[FocusOccupation], threshold: float = 0.85) -> None:
        """Prepare the labels (name, then synonyms) of each occupation once.

        Args:
            occupations: the focus occupations; slugs must be unique.
            threshold: a label matches a title when ``title_similarity`` >= threshold (and > 0).

        Raises:
            ValueError: threshold outside [0, 1], or a duplicate slug.
        """
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"threshold must be within [0, 1], got {threshold!r}")
        slugs = [o.slug for o in occupations]
        if len(set(slugs)) != len(slugs):
            raise ValueError("focus occupation slugs must be unique")
        self._occupations = tuple(occupations)
        self.threshold = threshold
        labels: list[_Label] = []
        for index, occ in enumerate(self._occupations):
            seen: set[str] = set()
            for text in (occ.name, *occ.synonyms):
                prepared = _prepare(text)
                if prepared.norm and prepared.norm not in seen:
                    seen.add(prepared.norm)
                    labels.append(_Label(index, text, prepared))
        self._labels = tuple(labels)
        self._by_token: dict[str, list[int]] = {}
        for j, label in enumerate(labels):
            for token in label.prepared.specific:
                self._by_token.setdefault(token, []).append(j)
        self._label_columns = _columns(label.prepared for label in labels)
        self._label_generic = _generic_indicator([label.prepared for label in labels])
        self._by_uri: dict[str, list[int]] = {}
        for index, occ in enumerate(self._occupations):
            for uri in dict.fromkeys(occ.esco_uris):
                self._by_uri.setdefault(uri, []).append(index)

    @property
    def occupations(self) -> tuple[FocusOccupation, ...]:
        """The focus occupations, in the order given."""
        return self._occupations

    def match(
        self,
        titles: Sequence[str],
        esco: Sequence[LinkedOccupation] = (),
        inferred: Sequence[LinkedOccupation] = (),
    ) -> list[FocusHit]:
        """The focus occupations the titles (and their ESCO links) belong to.

        For each occupation, the best (label, title) pair by ``title_similarity``; kept when its
        score is >= the threshold and > 0. Ties go to the earlier label (the name before the
        synonyms) and then the earlier title. An ESCO link whose URI is one of an occupation's
        ``esco_uris`` is a hit with the link's score (the link already passed the normaliser's
        own threshold); it replaces the title hit only when strictly stronger. Sorted by score
        descending, then slug. Titles that are empty after normalisation are ignored; no titles,
        no links or no occupations give [].

        ``inferred`` are occupations read from the text (not stated). They count only for
        focus occupations no stated title or link reached: by URI (the link's score) or by
        their ESCO label's title similarity (times the link's score), ``via="cv"`` and
        ``matched`` the words they were read from.
        """
        hits = self._title_hits(titles)
        stated = set(hits)
        for link in esco:
            for index in self._by_uri.get(link.uri, ()):
                current = hits.get(index)
                score = min(1.0, max(0.0, float(link.score)))
                if score <= 0.0 or (current is not None and current.score >= score):
                    continue
                occ = self._occupations[index]
                hits[index] = FocusHit(
                    slug=occ.slug,
                    name=occ.name,
                    label=link.label or link.uri,
                    matched=link.uri,
                    score=score,
                    via="esco",
                )
        stated |= set(hits)
        if inferred:
            for index, hit in self._inferred_hits(inferred).items():
                if index not in stated:
                    hits[index] = hit
        return sorted(hits.values(), key=lambda h: (-h.score, h.slug))

    def _inferred_hits(self, inferred: Sequence[LinkedOccupation]) -> dict[int, FocusHit]:
        found: dict[int, FocusHit] = {}

        def offer(index: int, label: str, score: float, link: LinkedOccupation) -> None:
            current = found.get(index)
            if score <= 0.0 or (current is not None and current.score >= score):
                return
            occ = self._occupations[index]
            found[index] = FocusHit(
                slug=occ.slug,
                name=occ.name,
                label=label,
                matched=getattr(link, "evidence", None) or link.label,
                score=score,
                via="cv",
            )

        for link in inferred:
            strength = min(1.0, max(0.0, float(link.score)))
            for index in self._by_uri.get(link.uri, ()):
                offer(index, link.label or link.uri, strength, link)
            if link.label:
                for index, hit in self._title_hits([link.label]).items():
                    offer(index, hit.label, round(hit.score * strength, 4), link)
        return found

    def _title_hits(self, titles: Sequence[str]) -> dict[int, FocusHit]:
        firsts: dict[str, None] = dict.fromkeys(t for t in titles if isinstance(t, str))
        inputs = [(t, p) for t in firsts if (p := _prepare(t)).norm]
        if not inputs or not self._labels:
            return {}
        scores = self._scores([p for _, p in inputs])
        best_col = np.argmax(scores, axis=0)  # first title reaching each label's maximum
        best_score = scores[best_col, np.arange(scores.shape[1])]
        hits: dict[int, FocusHit] = {}
        for j, label in enumerate(self._labels):
            score = float(best_score[j])
            if score < self.threshold or score <= 0.0:
                continue
            current = hits.get(label.occupation)
            if current is not None and current.score >= score:
                continue
            occ = self._occupations[label.occupation]
            hits[label.occupation] = FocusHit(
                slug=occ.slug,
                name=occ.name,
                label=label.text,
                matched=inputs[int(best_col[j])][0],
                score=score,
            )
        return hits

    def _scores(self, prepared: list[_Prepared]) -> np.ndarray:
        """titles x labels matrix of ``_similarity``, computed column-wise with rapidfuzz."""
        rows = _columns(prepared)
        cols = self._label_columns
        ratio_norm = _cdist(rows["norm"], cols["norm"])
        ratio_sort = _cdist(rows["sort_key"], cols["sort_key"])
        best = np.maximum(ratio_norm, ratio_sort)
        spec = np.maximum(
            _cdist(rows["spec_sorted"], cols["spec_sorted"]),
            _cdist(rows["spec_compact"], cols["spec_compact"]),
        )
        row_spec = np.array([bool(p.specific) for p in prepared])[:, None]
        col_spec = np.array([bool(label.prepared.specific) for label in self._labels])[None, :]
        shared_generic = _generic_indicator(prepared) @ self._label_generic.T > 0
        cap = np.where(
            row_spec & col_spec,
            np.where(shared_generic, spec, 1.0),
            np.where(row_spec | col_spec, GENERIC_ONLY_CAP, 1.0),
        )
        scores = np.minimum(best, cap)
        norms_equal = (
            np.array(rows["norm"], dtype=object)[:, None]
            == np.array(cols["norm"], dtype=object)[None, :]
        )
        scores[norms_equal] = 1.0
        # Containment needs a shared specific token, so only those pairs are checked.
        for i, p in enumerate(prepared):
            candidates = {j for token in p.specific for j in self._by_token.get(token, ())}
            for j in candidates:
                q = self._labels[j].prepared
                if _contained(p, q) or _contained(q, p):
                    bonus = _CONTAINED_BASE + (1.0 - _CONTAINED_BASE) * best[i, j]
                    scores[i, j] = max(scores[i, j], bonus)
        clipped: np.ndarray = np.clip(scores, 0.0, 1.0)
        return clipped


def _columns(prepared: Iterable[_Prepared]) -> dict[str, list[str]]:
    items = list(prepared)
    return {
        name: [getattr(p, name) for p in items]
        for name in ("norm", "sort_key", "spec_sorted", "spec_compact")
    }


_GENERIC_ORDER = tuple(sorted(GENERIC_TERMS))


def _generic_indicator(prepared: Sequence[_Prepared]) -> np.ndarray:
    """items x GENERIC_TERMS matrix: 1 where the item has that generic token."""
    return np.array(
        [[term in p.tokens for term in _GENERIC_ORDER] for p in prepared], dtype=np.int32
    ).reshape(len(prepared), len(_GENERIC_ORDER))


def _cdist(a: list[str], b: list[str]) -> np.ndarray:
    """Pairwise ``fuzz.ratio`` / 100, with 0 where either string is empty (as ``_ratio``)."""
    out = process.cdist(a, b, scorer=fuzz.ratio, dtype=np.float64) / 100.0
    out[[not s for s in a], :] = 0.0
    out[:, [not s for s in b]] = 0.0
    return out


def prepared_title(title: str) -> _Prepared:
    """A title prepared once for :func:`similarity_matrix` (cached across calls)."""
    return _prepare(title)


def similarity_matrix(a: Sequence[_Prepared], b: Sequence[_Prepared]) -> np.ndarray:
    """``title_similarity`` for every pair of two title lists, computed in batch.

    Args:
        a, b: titles prepared by :func:`prepared_title`.
    Returns:
        float64 array of shape (len(a), len(b)), each entry equal to ``title_similarity`` of the
        pair. The four ratios are one ``rapidfuzz.process.cdist`` call each; containment is
        checked only for pairs that share a specific token.
    """
    out = np.zeros((len(a), len(b)), dtype=np.float64)
    if not a or not b:
        return out
    ra, rb = _columns(a), _columns(b)
    best = np.maximum(_cdist(ra["norm"], rb["norm"]), _cdist(ra["sort_key"], rb["sort_key"]))
    spec = np.maximum(
        _cdist(ra["spec_sorted"], rb["spec_sorted"]),
        _cdist(ra["spec_compact"], rb["spec_compact"]),
    )
    a_spec = np.array([bool(p.specific) for p in a])[:, None]
    b_spec = np.array([bool(p.specific) for p in b])[None, :]
    shared_generic = _generic_indicator(a) @ _generic_indicator(b).T > 0
    cap = np.where(
        a_spec & b_spec,
        np.where(shared_generic, spec, 1.0),
        np.where(a_spec | b_spec, GENERIC_ONLY_CAP, 1.0),
    )
    scores: np.ndarray = np.minimum(best, cap)
    by_token: dict[str, list[int]] = {}
    for j, q in enumerate(b):
        for token in q.specific:
            by_token.setdefault(token, []).append(j)
    for i, p in enumerate(a):
        for j in {j for token in p.specific for j in by_token.get(token, ())}:
            q = b[j]
            if _contained(p, q) or _contained(q, p):
                scores[i, j] = max(
                    scores[i, j], _CONTAINED_BASE + (1.0 - _CONTAINED_BASE) * best[i, j]
                )
    scores = np.minimum(1.0, np.maximum(0.0, scores))
    a_norm = np.array([p.norm for p in a], dtype=object)
    b_norm = np.array([p.norm for p in b], dtype=object)
    scores[a_norm[:, None] == b_norm[None, :]] = 1.0
    scores[a_norm == "", :] = 0.0
    scores[:, b_norm == ""] = 0.0
    return scores
