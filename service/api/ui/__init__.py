"""The work-director web page (``/ui``): Dutch, server-rendered, a little JavaScript.

The page shell is static; its parts are HTML fragments that ``werkmatch.js`` fetches with the
API key as ``Authorization: Bearer``. The server does not check that key yet (no auth exists);
once it does, the fragments are protected like the JSON API because they are fetched the same
way.
"""

from service.api.ui.routes import STATIC_DIR, router

__all__ = ["STATIC_DIR", "router"]
