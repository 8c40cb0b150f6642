"""The suite-wide watch for personal data and secrets in application logs."""

from __future__ import annotations

import logging
import re

from service.observability import JsonFormatter
from tests.factories import CARE_CV, CATERING_CV, FORKLIFT_CV, PII_MARKER

# Values that must never reach an application log: API key tokens, the made-up CVs every API
# test stores, and the marker the privacy test plants. The whole suite runs with this watch.
LEAK_PATTERNS = [
    re.compile(r"wm_[a-z0-9]{12}_[A-Za-z0-9_-]{43}"),
    re.compile(re.escape(PII_MARKER)),
    *(re.compile(re.escape(cv[:60])) for cv in (FORKLIFT_CV, CARE_CV, CATERING_CV)),
]
# The application's loggers (and the servers it runs on); test-side clients such as httpx log
# the URLs the tests themselves build, which is not the service logging.
APP_LOGGERS = (
    "service",
    "matching",
    "werkmatch",
    "uvicorn",
    "sqlalchemy",
    "alembic",
    "fastapi",
    "distributed",
)


def is_app_record(record: logging.LogRecord) -> bool:
    return record.name.startswith(APP_LOGGERS) or record.name == "root"


class LeakWatch:
    """Checks every application log record as it is made, for a watched value.

    It wraps the log-record factory rather than adding a handler: commands under test
    reconfigure the root logger's handlers, and a handler would silently drop out.
    """

    def __init__(self) -> None:
        self.leaks: list[str] = []
        self.seen = 0
        self._formatter = JsonFormatter()
        self._factory = logging.getLogRecordFactory()

    def __call__(self, *args: object, **kwargs: object) -> logging.LogRecord:
        record = self._factory(*args, **kwargs)
        if is_app_record(record):
            self.seen += 1
            try:
                text = self._formatter.format(record)
            except Exception:  # not formattable yet (args filled in later): check the parts
                text = f"{record.msg} {record.args}"
            if any(p.search(text) for p in LEAK_PATTERNS):
                self.leaks.append(f"{record.name}: {text[:300]}")
        return record


LEAK_WATCH = LeakWatch()
