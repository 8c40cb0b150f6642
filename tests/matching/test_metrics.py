"""Ranking metrics on tiny cases that can be checked by hand."""

from __future__ import annotations

import math

import pytest

from matching.metrics import accuracy_at_1, mean, ndcg_at_k, recall_at_k, reciprocal_rank


def test_reciprocal_rank_is_one_over_the_first_relevant_rank() -> None:
    assert reciprocal_rank(["a", "b", "c"], {"b": 1, "c": 1}) == 0.5
    assert reciprocal_rank(["a", "b", "c"], {"a": 2}) == 1.0
    assert reciprocal_rank(["a", "b"], {"z": 1}) == 0.0
    assert reciprocal_rank(["a", "b"], {"a": 0, "b": 1}) == 0.5  # relevance 0 is not relevant


def test_accuracy_at_1() -> None:
    assert accuracy_at_1(["a", "b"], {"a": 1}) == 1.0
    assert accuracy_at_1(["a", "b"], {"b": 1}) == 0.0
    assert accuracy_at_1([], {"b": 1}) == 0.0


def test_recall_at_k_counts_relevant_items_in_the_top_k() -> None:
    ranked = ["a", "b", "c", "d"]
    assert recall_at_k(ranked, {"b": 1, "d": 1}, 2) == 0.5
    assert recall_at_k(ranked, {"b": 1, "d": 1}, 4) == 1.0
    assert recall_at_k(ranked, {"z": 1, "a": 1}, 10) == 0.5  # unranked relevant items count
    assert recall_at_k(ranked, {}, 10) == 0.0


def test_ndcg_uses_exponential_gain_and_log2_discount() -> None:
    # One relevant item at rank 2: DCG = 1/log2(3); ideal = 1/log2(2) = 1.
    assert ndcg_at_k(["a", "b"], {"b": 1}, 10) == pytest.approx(1 / math.log2(3))
    # Graded: ranked [rel 1, rel 2]; DCG = 1 + 3/log2(3); ideal = 3 + 1/log2(3).
    expected = (1 + 3 / math.log2(3)) / (3 + 1 / math.log2(3))
    assert ndcg_at_k(["x", "y"], {"x": 1, "y": 2}, 10) == pytest.approx(expected)
    assert ndcg_at_k(["y", "x"], {"x": 1, "y": 2}, 10) == pytest.approx(1.0)
    assert ndcg_at_k(["a", "b", "c"], {"c": 1}, 2) == 0.0  # beyond the cut-off
    assert ndcg_at_k(["a"], {}, 10) == 0.0


def test_mean() -> None:
    assert mean([1.0, 0.5, 0.0]) == 0.5
    assert mean([]) == 0.0
