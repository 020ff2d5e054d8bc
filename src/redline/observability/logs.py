"""Log lines as JSON objects (the default) or as text, through the standard ``logging``.

Fields a module passes with ``extra=`` (the request frame passes ``request_id``, ``op``,
``principal``, ``tenant``, ``status``, ``ms``) become keys of the JSON object, or
``key=value`` pairs after the message in text form. Chosen by ``REDLINE_LOG_FORMAT`` or
``[observability] log_format`` (:mod:`redline.settings`) and installed by ``redline serve``.
"""

from __future__ import annotations

import logging
import time

import orjson

__all__ = ["JsonFormatter", "TextFormatter", "configure_logging"]

# Attributes every LogRecord has; anything else on a record came from ``extra=``
# (uvicorn's ``color_message`` is its message again, with terminal colour codes).
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {
    "message",
    "asctime",
    "taskName",
    "color_message",
}


def _extras(record: logging.LogRecord) -> dict[str, object]:
    return {k: v for k, v in record.__dict__.items() if k not in _STANDARD}


def _json_default(value: object) -> str:
    return str(value)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``ts``, ``level``, ``logger``, ``msg``, the extras, and
    ``exc`` (the traceback) when one was logged."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON."""
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        line: dict[str, object] = {
            "ts": f"{stamp}.{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in _extras(record).items():
            line.setdefault(key, value)
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=_json_default).decode()


class TextFormatter(logging.Formatter):
    """``time level logger message key=value ...`` for people reading a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        """The message, then the extras."""
        extras = " ".join(f"{k}={v}" for k, v in _extras(record).items())
        text = super().formatMessage(record)
        return f"{text} {extras}" if extras else text


def configure_logging(level: str, log_format: str) -> None:
    """Send every log line to standard error in ``log_format`` (``json`` or ``text``)."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
