"""Werkmatch HTTP service."""
