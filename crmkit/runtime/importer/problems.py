"""What went wrong in an import: every problem located by file, row, column and value, with a fix."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from crmkit.runtime.errors import KitError

#: At most this many problems are listed per file and column; the rest are counted in one line.
PER_COLUMN_CAP = 10


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the import, located as precisely as possible.

    ``file`` is the file's name (a source CSV, the mapping file or an output file), ``row`` the row
    as a spreadsheet shows it (the header is row 1; ``None`` if the problem is not about one row),
    ``column`` the source column header, ``kit_column`` the kit's ``table.column``, ``value`` the
    offending value as text, ``message`` what is wrong and ``fix`` what to do.
    """

    file: str
    message: str
    fix: str
    row: int | None = None
    column: str | None = None
    kit_column: str | None = None
    value: str | None = None

    @property
    def location(self) -> str:
        parts = [self.file]
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column:
            parts.append(f'column "{self.column}"' + (f" ({self.kit_column})" if self.kit_column else ""))
        elif self.kit_column:
            parts.append(f"column {self.kit_column}")
        return ", ".join(parts)

    @property
    def description(self) -> str:
        """What is wrong, with the offending value: "value '31.02.2024' is not a valid date ..."."""
        if self.value is None:
            return self.message
        if self.message.startswith("is "):
            return f"value {self.value!r} {self.message}"
        return f"value {self.value!r}: {self.message}"

    def __str__(self) -> str:
        return f"{self.location}: {self.description}. Fix: {self.fix}"


class ImportProblems(KitError, ValueError):
    """The import failed; ``problems`` lists every :class:`Problem` found. Nothing was written."""

    def __init__(self, problems: list[Problem], source: str = "import"):
        self.problems = list(problems)
        super().__init__("\n".join([f"{source}: {len(self.problems)} problem(s); nothing was written:"]
                                   + [f"- {p}" for p in self.problems]))


class ProblemList:
    """Collects problems, listing at most PER_COLUMN_CAP per (file, column) and counting the rest."""

    def __init__(self) -> None:
        self.items: list[Problem] = []
        self._listed: Counter = Counter()
        self._more: Counter = Counter()
        self._first: dict = {}
        self.cells: set[tuple[str, int]] = set()  # (kit column, row) of every problem, listed or not

    def add(self, p: Problem) -> None:
        if p.row is not None and p.kit_column:
            self.cells.add((p.kit_column, p.row))
        key = (p.file, p.column or p.kit_column or "")
        if p.row is not None and self._listed[key] >= PER_COLUMN_CAP:
            self._more[key] += 1
            self._first.setdefault(key, p)
            return
        self._listed[key] += 1
        self.items.append(p)

    def kit_columns(self) -> set[str]:
        return {p.kit_column for p in self.items if p.kit_column}

    def result(self) -> list[Problem]:
        files = {}
        for p in self.items:
            files.setdefault(p.file, len(files))
        out = sorted(self.items, key=lambda p: (files[p.file], p.row or 0))  # stable: column order within a row
        for key, n in self._more.items():
            p = self._first[key]
            out.append(Problem(p.file, f"{n} more problems in this column are not listed",
                               "fix the ones listed above (they are usually of the same kind) and run the import again",
                               column=p.column, kit_column=p.kit_column))
        return out

    def __bool__(self) -> bool:
        return bool(self.items)


class BadValue(Exception):
    def __init__(self, message: str, fix: str):
        super().__init__(message)
        self.message, self.fix = message, fix
