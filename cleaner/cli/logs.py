"""Log lines, set up once for every command: messages on stderr for the one-shot commands; for the
watch daemon, timestamped lines on stdout (a container's log), readable or one JSON object a line."""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """``time``, ``level``, ``message``, and whatever fields the call passed in ``extra``."""

    def format(self, record: logging.LogRecord) -> str:
        body = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "message": record.getMessage(),
        }
        body.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            body["exception"] = self.formatException(record.exc_info)
        # ASCII: a C1 control or a bidirectional override in a file name reaches no terminal raw
        return json.dumps(body, ensure_ascii=True, default=str)


def setup(verbose: int, quiet: bool, daemon: bool = False, log_format: str = "text") -> None:
    """``-q`` warnings and errors only, ``-v`` INFO (a daemon logs at INFO anyway), ``-vv`` DEBUG."""
    info = verbose > 0 or daemon
    level = logging.WARNING if quiet else logging.DEBUG if verbose > 1 else logging.INFO if info else logging.WARNING
    handler = logging.StreamHandler(sys.stdout if daemon else sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    elif daemon:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(message)s"))
    else:
        handler.setFormatter(logging.Formatter("%(message)s"))
    logging.basicConfig(level=level, handlers=[handler], force=True)
