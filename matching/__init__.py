"""Werkmatch matching core: pure Python, numpy and rapidfuzz (no web or database code)."""
