"""The process's matcher: built from the database, kept in step through the change log, and
snapshotted to disk."""
