"""The database: engine and migrations check, the tables, and every query (data access)."""
