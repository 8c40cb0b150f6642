"""The term spans of a highlight as the product found them before :class:`matching.text.TermLocator`
indexed a text's positions per term (``_WordsByTerm``): the test oracle of that rewrite.

Each lookup went over every distinct word of the text, kept those holding a wanted term and
found their occurrences with one regular expression. tests/matching/test_term_spans_oracle.py checks
that the product gives the same spans, in the same order, on random texts and term sets.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from matching.text import _WORD_RE, _analyse_word, _fold_with_offsets


class OracleTermLocator:
    """A text folded once, for term-span lookups of several term sets (the old product code).

    A lookup reads only the words that can hold a wanted term: the text's distinct words are
    reduced once each (:func:`_analyse_word`, cached over texts), and only the occurrences of
    the words that hold a wanted term are found, by one regular expression scan.
    """

    def __init__(self, text: str) -> None:
        self._folded, self._origin = _fold_with_offsets(text) if text else ("", [])
        self._words: frozenset[str] | None = None

    def spans(self, terms: Iterable[str], limit: int = 50) -> list[tuple[str, int, int]]:
        """``term_spans`` of the prepared text for ``terms``: in text order, at most ``limit``."""
        wanted = set(terms)
        if not wanted or not self._folded:
            return []
        if self._words is None:
            self._words = frozenset(_WORD_RE.findall(self._folded))
        # word -> None (the whole word is a wanted term) or its wanted parts (term, start, end)
        relevant: dict[str, tuple[tuple[str, int, int], ...] | None] = {}
        for word in self._words:
            analysed = _analyse_word(word)
            if analysed is None:
                continue
            whole, parts = analysed
            if whole in wanted:
                relevant[word] = None
                continue
            hits = tuple((t, found, stop) for t, kept, found, stop in parts if kept and t in wanted)
            if hits:
                relevant[word] = hits
        if not relevant:
            return []
        origin = self._origin
        out: list[tuple[str, int, int]] = []
        for match in _words_re(frozenset(relevant)).finditer(self._folded):
            start, stop = match.span()
            whole_span = (origin[start], origin[stop - 1] + 1)
            hits = relevant[match.group()]
            if hits is None:
                out.append((_analyse_word(match.group())[0], *whole_span))  # type: ignore[index]
            else:
                out.extend(
                    (t, *whole_span)
                    if found < 0
                    else (t, origin[start + found], origin[start + end - 1] + 1)
                    for t, found, end in hits
                )
            if len(out) >= limit:
                return out[:limit]
        return out


@lru_cache(maxsize=1024)
def _words_re(words: frozenset[str]) -> re.Pattern[str]:
    """Whole-word occurrences of ``words`` (as ``_WORD_RE`` delimits words)."""
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<![^\W_])(?:{alternatives})(?![^\W_])")


def oracle_term_spans(
    text: str, terms: Iterable[str], limit: int = 50
) -> list[tuple[str, int, int]]:
    return OracleTermLocator(text).spans(terms, limit)
