"""Structured logs: one JSON object a line.

A record's ``fields`` extra (a dict) is merged into the object::

    log.info("request", extra={"fields": {"method": "GET", "status": 200}})
    {"time": "2026-03-02T09:00:00.000000+00:00", "level": "info",
     "logger": "isotrack.api.access", "message": "request", "method": "GET", "status": 200}

Callers put only ids, codes and numbers in ``fields``: never a patient's name,
a password or a token.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

ACCESS_LOGGER = "isotrack.api.access"


class JsonFormatter(logging.Formatter):
    """Formats a record as one line of JSON (a traceback, when any, as a string field)."""

    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            for key, value in fields.items():
                document.setdefault(str(key), value)
        if record.exc_info:
            document["exception"] = self.formatException(record.exc_info)
        return json.dumps(document, default=str, ensure_ascii=False)


def logging_config(level: str = "INFO") -> dict[str, Any]:
    """A :func:`logging.config.dictConfig` (and uvicorn ``log_config``) sending every
    log, uvicorn's included, to stderr as JSON lines."""
    handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": f"{__name__}.JsonFormatter"}},
        "handlers": {"stderr": handler},
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            "uvicorn": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.error": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": True},
        },
    }
