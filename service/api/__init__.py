"""The HTTP surface: the app factory, routes, request dependencies, error handlers, the OpenAPI
document and the work-director web page. Every request enters here; nothing below imports it."""
