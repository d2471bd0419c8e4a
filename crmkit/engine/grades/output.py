"""Write output files atomically and never overwrite one silently.

If the file exists with the same content, nothing is written. If it exists with other content, the
old file is first renamed to ``<name>.<YYYYmmdd-HHMMSS>.<suffix>`` beside it (kept, and said so),
then the new content is written to a temporary file and moved into place, so a crash never leaves
half a file.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from datetime import datetime
from pathlib import Path


def csv_text(header: list[str], rows: list[list[str]]) -> str:
    """UTF-8 CSV text, comma-separated, every field quoted only when needed, \\n line ends."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def _backup_name(path: Path) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    candidate = path.with_name(f"{path.stem}.{stamp}{path.suffix}")
    n = 1
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.stem}.{stamp}-{n}{path.suffix}")
    return candidate


def write(path: str | os.PathLike, content: str | bytes) -> str:
    """Write ``content`` to ``path``; return one line saying what happened (for the user)."""
    path = Path(path)
    data = content.encode("utf-8") if isinstance(content, str) else content
    path.parent.mkdir(parents=True, exist_ok=True)
    note = ""
    if path.exists():
        if path.read_bytes() == data:
            return f"{path}: unchanged"
        backup = _backup_name(path)
        os.replace(path, backup)
        note = f" (the previous version is kept as {backup.name})"
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return f"{path}: written{note}"
