"""Bounds on JSON: how deep a request body may nest, and how big a free JSON field may be.

Free JSON (a vacancy's ``extra_properties``, the unmapped properties of a JobPosting) is stored
as sent and rendered back on every read of its row. Without a bound, a document nested a few
hundred levels deep could be stored but no longer rendered, and then broke every list that held
its row; a few thousand levels broke the JSON parser itself. So:

- ``MAX_JSON_DEPTH``: no JSON request body nests arrays and objects deeper than this, the body's
  own object or array counting as level 1. :func:`too_deep` checks the raw bytes before anything
  parses them (``service.api.limits.BodySizeLimit`` on every route, ``werkmatch import`` on every
  line); the 422 names the top-level field that holds the deepest part.
- ``MAX_FREE_JSON_BYTES``: a free JSON field holds at most this many bytes as compact JSON;
  :func:`free_json_problem` checks it (and the depth again, for values that did not come as a
  body) before anything is written.

Rows stored before these bounds existed may exceed them; the read path withholds such a field
instead of failing (see ``service.api.routes.vacancies.to_public``).
"""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np

MAX_JSON_DEPTH = 32
MAX_FREE_JSON_BYTES = 16_384

# A JSON string, escapes included: brackets inside it are text, not structure.
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_TOKEN = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}:]', re.S)
_OPEN = np.zeros(256, dtype=np.int8)
_OPEN[[ord("["), ord("{")]] = 1
_OPEN[[ord("]"), ord("}")]] = -1


def raw_depth(body: bytes) -> int:
    """The deepest nesting of arrays and objects in a JSON text, without parsing it (linear
    time, no recursion; the text need not be valid JSON)."""
    structure = _STRING.sub(b"", body)
    if not structure:
        return 0
    steps = _OPEN[np.frombuffer(structure, dtype=np.uint8)].astype(np.int32)
    return int(np.cumsum(steps).max(initial=0))


def _deep_field(body: bytes, limit: int) -> str:
    """The top-level key of the object that holds a part nested deeper than ``limit``
    ('body' when the body itself is no object or the key cannot be told)."""
    depth = 0
    key: str | None = None
    last_string: bytes | None = None
    for match in _TOKEN.finditer(body):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return key or "body"
        elif token in (b"]", b"}"):
            depth -= 1
        elif token == b":":
            if depth == 1 and last_string is not None:
                try:
                    key = json.loads(last_string)
                except ValueError:
                    key = None
        else:
            last_string = token
    return "body"


def too_deep(body: bytes, limit: int = MAX_JSON_DEPTH) -> str | None:
    """None when ``body`` nests at most ``limit`` levels; else the field to name in the error
    (the top-level key holding the deepest part, or 'body')."""
    if raw_depth(body) <= limit:
        return None
    return _deep_field(body, limit)


def depth_message(limit: int = MAX_JSON_DEPTH) -> str:
    return f"JSON nested deeper than {limit} levels of arrays and objects (at most {limit})"


def value_depth(value: Any) -> int:
    """The nesting depth of a parsed JSON value (a scalar is 0), without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children = list(item.values())
        elif isinstance(item, list | tuple):
            children = list(item)
        else:
            continue
        level += 1
        deepest = max(deepest, level)
        if deepest > MAX_JSON_DEPTH:
            return deepest  # enough to refuse; do not walk the rest
        stack.extend((child, level) for child in children)
    return deepest


def free_json_problem(value: Any, max_depth: int = MAX_JSON_DEPTH - 1) -> str | None:
    """Why ``value`` cannot be kept as free JSON, or None when it fits the bounds.

    ``max_depth`` is the depth the field's value may have; a field of a body object sits one
    level below the body's root, hence ``MAX_JSON_DEPTH - 1`` by default.
    """
    if value is None:
        return None
    if value_depth(value) > max_depth:
        return f"nested deeper than {max_depth} levels of arrays and objects (at most {max_depth})"
    try:
        size = len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())
    except (TypeError, ValueError, RecursionError):
        return "not a JSON value"
    if size > MAX_FREE_JSON_BYTES:
        return f"{size} bytes as JSON; at most {MAX_FREE_JSON_BYTES} bytes are kept"
    return None


class DuplicateKey(ValueError):
    """An object of a JSON text names one key twice."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise DuplicateKey(key)
        out[key] = value
    return out


def duplicate_key(body: bytes) -> str | None:
    """The first key that an object of the JSON text ``body`` names twice, else None (also
    when ``body`` is no valid JSON: its route says why). A parser keeps only one of the values
    silently; the service refuses instead. Call it only on a body within ``MAX_JSON_DEPTH``."""
    try:
        json.loads(body, object_pairs_hook=_unique_pairs)
    except DuplicateKey as exc:
        return exc.key
    except (ValueError, RecursionError):
        return None
    return None
