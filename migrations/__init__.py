"""Alembic environment and revisions: the only way Werkmatch's schema changes."""
