"""The OpenAPI side of access control: the bearer scheme, each operation's roles, and the
401/403/429 answers every keyed operation can give (from :data:`service.security.auth.POLICY`)."""

from __future__ import annotations

from typing import Any

from service.security.auth import PUBLIC, allowed_roles

SCHEME = "bearerAuth"
_JSON = "application/json"
_ERROR_REF = {"$ref": "#/components/schemas/ErrorBody"}

ACCESS_ERRORS: dict[str, tuple[str, dict[str, Any]]] = {
    "401": (
        "No valid API key (missing, malformed, revoked or expired)",
        {
            "error": "unauthorized",
            "detail": "a valid API key is required: 'Authorization: Bearer <key>' "
            "(keys are never accepted in the URL)",
        },
    ),
    "403": (
        "This key's role may not use this operation",
        {"error": "forbidden", "detail": "this key's role may not use this route"},
    ),
    "429": (
        "Too many requests for this key, or too many without a valid key from this address "
        "(`too_many_unauthenticated`); Retry-After gives the seconds to wait",
        {
            "error": "rate_limited",
            "detail": "too many requests for this key; retry after the Retry-After seconds",
        },
    ),
}


def secure_document(doc: dict[str, Any]) -> None:
    """Add the bearer scheme and, per operation, its security requirement, roles and errors."""
    doc.setdefault("components", {}).setdefault("securitySchemes", {})[SCHEME] = {
        "type": "http",
        "scheme": "bearer",
        "description": "An API key, `wm_<key id>_<secret>`, from `werkmatch keys create`.",
    }
    for path, ops in doc.get("paths", {}).items():
        for method, op in ops.items():
            roles = allowed_roles(method.upper(), path)
            if roles == PUBLIC:
                op["security"] = []
                continue
            op["security"] = [{SCHEME: []}]
            listed = ", ".join(sorted(roles)) or "none"
            op["description"] = (op.get("description", "") + f"\n\n**Roles:** {listed}.").strip()
            responses = op.setdefault("responses", {})
            for code, (description, example) in ACCESS_ERRORS.items():
                responses[code] = {
                    "description": description,
                    "content": {_JSON: {"schema": _ERROR_REF, "example": example}},
                }
