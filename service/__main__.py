"""``python -m service`` is the ``werkmatch`` command."""

from service.cli import app

app()
