"""Access control and privacy: API keys, the access gate, the audit log, rate limits and the
security headers. Object-level scopes per request are applied in ``service.api.tenancy``."""
