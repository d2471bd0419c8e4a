"""The autograde status file: its one reader and its one writer.

``grading/status/<assignment>.json`` holds each student's outcome of ``crmkit autograde``::

    {
      "<student_id>": {"status": "failed", "reason": "aikaraja ylittyi solussa 14 (120 s)",
                       "hash": "<sha256 of the submission folder>", "score": 0.0, "max_score": 24.0,
                       "time": "2026-03-01T12:00:00+00:00", "updated": "2026-03-01T12:00:00+00:00",
                       "messages": [...]},
      ...
    }

``status`` is one of :data:`GRADED`, :data:`PENDING`, :data:`FAILED`, :data:`MISSING`; ``reason``
is shown to the teacher as it is. ``messages`` (optional) are the first lines of the messages the
student saw for each failing test cell (never a hidden test's text). A file that cannot be read is
an error (:class:`StatusFileError`): without it a failed notebook could pass for a 0.0. Autograde,
which rewrites every entry anyway, sets such a file aside (:func:`set_aside`) and says so.
The file is written atomically.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from crmkit.runtime.errors import KitError

GRADED = "graded"
PENDING = "awaiting manual grading"
FAILED = "failed"
MISSING = "missing"
STATUSES = (GRADED, PENDING, FAILED, MISSING)


class StatusFileError(KitError):
    """A status file that is not valid JSON or not in the format above."""


def read(path: str | os.PathLike) -> dict[str, dict]:
    """Student -> entry; {} when the file does not exist. Raises :class:`StatusFileError`."""
    path = Path(path)
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise StatusFileError(f"status file {path} cannot be read: {e}") from None
    if not isinstance(data, dict):
        raise StatusFileError(f"status file {path}: expected an object student_id -> "
                              "{\"status\": ..., \"reason\": ...}")
    for student, entry in data.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("status"), str):
            raise StatusFileError(f"status file {path}: entry {student!r} needs a \"status\" (and a \"reason\")")
    return {str(k): v for k, v in data.items()}


def set_aside(path: str | os.PathLike) -> Path:
    """Keep an unreadable status file beside, under a new name; return that name."""
    path = Path(path)
    kept = path.with_suffix(f".unreadable-{int(time.time())}.json")
    path.rename(kept)
    return kept


def write(path: str | os.PathLike, entries: dict[str, dict]) -> None:
    """Write all entries atomically (a reader never sees half a file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(entries, f, ensure_ascii=False, indent=1, sort_keys=True)
        f.write("\n")
    os.replace(tmp, path)


def entry(status: str, reason: str = "", hash: str = "", score=None, max_score=None,
          messages: list | None = None) -> dict:
    """One student's entry, stamped with the current time."""
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    out = {"status": status, "reason": reason, "hash": hash, "score": score, "max_score": max_score,
           "time": now, "updated": now}
    if messages:
        out["messages"] = messages
    return out
