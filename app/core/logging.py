"""Structured JSON logs; every line carries the request's trace id."""

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from app.core.context import current_source

_STANDARD_ATTRS = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message"}
_base_record_factory = logging.getLogRecordFactory()


def _record_with_trace_id(*args: Any, **kwargs: Any) -> logging.LogRecord:
    """Stamp the trace id when the line is logged, not when (or where) it is formatted."""
    record = _base_record_factory(*args, **kwargs)
    record.traceId = current_source().trace_id
    return record


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(
            {key: value for key, value in record.__dict__.items() if key not in _STANDARD_ATTRS}
        )
        line.setdefault("traceId", None)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def configure_logging(level: str) -> None:
    logging.setLogRecordFactory(_record_with_trace_id)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("pymongo", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
