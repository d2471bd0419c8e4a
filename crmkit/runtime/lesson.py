"""What every notebook's locked setup cell calls: ``crmkit.runtime.lesson.setup(min_version="0.1.0")``.

It checks that the installed kit is new enough for the notebook, routes Python warnings to stdout
(nbgrader scores a test cell 0 if it wrote *anything* to stderr, so a harmless pandas warning
raised inside a student's function must not cost points), and sets the plotting theme and pandas
display options. It prints nothing when all is well.
"""

from __future__ import annotations

import sys
import warnings

import crmkit
from crmkit.runtime.errors import KitError


class VanhaYmparisto(KitError, RuntimeError):
    """The installed crmkit is older than the notebook needs (a stale environment)."""


def _version_tuple(version: str) -> tuple[int, ...]:
    parts = []
    for piece in version.split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


def check_version(min_version: str) -> None:
    """Raise :class:`VanhaYmparisto` with a Finnish explanation if crmkit is older than needed."""
    if _version_tuple(crmkit.__version__) < _version_tuple(min_version):
        raise VanhaYmparisto(
            f"Tämä muistikirja tarvitsee crmkit-paketin version {min_version} tai uudemman, mutta "
            f"ympäristössäsi on versio {crmkit.__version__}. Päivitä ympäristö: aja kurssikansiossa "
            "`make setup` (tai Binderissa käynnistä ympäristö uudelleen) ja käynnistä sitten "
            "kerneli uudelleen (Kernel → Restart Kernel)."
        )


def _showwarning_to_stdout(message, category, filename, lineno, file=None, line=None):
    """warnings.showwarning that writes to stdout: nbgrader fails test cells with stderr output."""
    text = warnings.formatwarning(message, category, filename, lineno, line)
    sys.stdout.write(text)


def route_warnings_to_stdout() -> None:
    """Show Python warnings on stdout instead of stderr (the warnings are still shown)."""
    warnings.showwarning = _showwarning_to_stdout


def decimals_for(x: float) -> int:
    """How many decimals a number needs to be read and compared: none for thousands and whole
    numbers, more for shares."""
    size = abs(x)
    if size == 0 or (size >= 1 and float(x).is_integer()):
        return 0
    if size >= 10_000:
        return 0
    if size >= 100:
        return 1
    if size >= 1:
        return 2
    if size >= 0.001:
        return 4  # shares: 0,5002 is not 0,5
    return 6


def fi_number(x, decimals: int | None = None) -> str:
    """A number in Finnish format: ``3 093 956``, ``499,5``, ``0,134`` (never scientific notation).

    ``decimals`` defaults to :func:`decimals_for`; missing values show as an empty string.
    """
    import math

    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""
    if isinstance(x, float) and math.isinf(x):
        return "∞" if x > 0 else "−∞"
    d = decimals_for(float(x)) if decimals is None else decimals
    text = f"{x:,.{d}f}"
    if text.startswith("-") and not any(c in "123456789" for c in text):
        text = text[1:]  # -0,001 shown with 2 decimals is 0,00, not -0,00
    return text.replace(",", " ").replace(".", ",")


def column_decimals(values) -> int:
    """The decimals one column of numbers is shown with, so that its values line up (``1,0000``
    above ``0,8704``): what the column's typical (median) non-whole value needs (:func:`decimals_for`),
    or fewer when every value has fewer (a column the student rounded to 3 decimals shows 3)."""
    import numpy as np

    a = np.abs(np.asarray(values, dtype=float))
    a = a[np.isfinite(a) & (a != np.round(a))]  # whole numbers need no decimals
    if not a.size:
        return 0
    wanted = decimals_for(float(np.sort(a)[a.size // 2]))  # a value, not a mean of two
    return next(d for d in range(wanted + 1) if d == wanted or np.allclose(a, np.round(a, d), rtol=0, atol=1e-9))


def finnish_frame(obj):
    """A copy of a DataFrame or Series whose numbers are Finnish text (``3 093 956``, ``0,8704``),
    each column with one number of decimals (:func:`column_decimals`); other columns unchanged."""
    import numpy as np
    import pandas as pd

    # a long table shows only its first and last rows: format at most max_rows of each end
    max_rows = pd.get_option("display.max_rows")
    n = len(obj)
    shown = np.arange(n) if not max_rows or n <= 2 * max_rows else np.r_[0:max_rows, n - max_rows:n]

    def column(col: pd.Series) -> pd.Series:
        if pd.api.types.is_bool_dtype(col) or not pd.api.types.is_numeric_dtype(col):
            return col
        values = col.to_numpy(dtype=float, na_value=np.nan)
        if pd.api.types.is_integer_dtype(col):
            d, missing = 0, "<NA>"
        else:
            d, missing = column_decimals(values), "NaN"
        text = np.full(n, "", dtype=object)
        if _is_code_column(col.name, values):  # 1984 and 1516, not 1 984 and 1 516
            text[shown] = [missing if np.isnan(v) else str(int(v)) for v in values[shown]]
        else:
            text[shown] = [_cell_text(v, d, missing) for v in values[shown]]
        return pd.Series(text, index=col.index, name=col.name)

    if isinstance(obj, pd.Series):
        return column(obj)
    out = obj.copy()
    for i in range(out.shape[1]):
        out.isetitem(i, column(out.iloc[:, i]))
    return out


def _is_code_column(name, values) -> bool:
    """Whether a column holds calendar years or identifiers (``birth_year``, ``vuosi``,
    ``customer_id``, ``id``): whole numbers under a name that says so, shown without a thousands
    space (1984 and 1516, not 1 984 and 1 516)."""
    import re

    import numpy as np

    words = str(name).lower()
    is_year = "year" in words or "vuosi" in words
    if not is_year and not re.search(r"(^|_)id$", words):
        return False
    known = values[np.isfinite(values)]
    whole = bool(known.size) and bool(np.all(known == np.round(known)))
    return whole and (not is_year or bool(np.all((known >= 1000) & (known <= 9999))))


def _cell_text(value: float, decimals: int, missing: str) -> str:
    """One number of a column shown with the column's decimals; a small value that those decimals
    would show as zero (0,03 in a column of thousands) keeps its own (:func:`decimals_for`)."""
    import math

    if math.isnan(value):
        return missing
    if value != 0 and round(value, decimals) == 0:
        return fi_number(value)
    return fi_number(int(value) if decimals == 0 and value.is_integer() else value, decimals)


def _series_text(series) -> str:
    """A Series as pandas prints it, with its numbers as :func:`finnish_frame` shows them."""
    import pandas as pd

    max_rows, min_rows = pd.get_option("display.max_rows"), pd.get_option("display.min_rows")
    body = finnish_frame(series).to_string(name=False, dtype=False, length=False, max_rows=max_rows,
                                           min_rows=min_rows)
    footer = [f"Name: {series.name}"] if series.name is not None else []
    if max_rows and len(series) > max_rows:
        footer.append(f"Length: {len(series)}")
    return body + "\n" + ", ".join([*footer, f"dtype: {series.dtype}"])


def _show_finnish_tables_in_ipython() -> None:
    """In a notebook, display DataFrames and Series through :func:`finnish_frame` (the numbers of
    one column with the same decimals, integers with thousands spaces)."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with every kernel
        return
    shell = get_ipython()
    if shell is None:
        return
    import pandas as pd

    formatters = shell.display_formatter.formatters
    formatters["text/html"].for_type(pd.DataFrame, lambda df: finnish_frame(df)._repr_html_())
    formatters["text/plain"].for_type(pd.DataFrame, lambda df, p, cycle: p.text(repr(finnish_frame(df))))
    formatters["text/plain"].for_type(pd.Series, lambda s, p, cycle: p.text(_series_text(s)))


def set_display() -> None:
    """Seaborn theme, figure size and pandas display options used by every lesson: numbers in
    tables are shown in Finnish format (:func:`fi_number`), never in scientific notation; in a
    notebook each column's numbers have the same decimals (:func:`finnish_frame`)."""
    import pandas as pd

    pd.set_option("display.max_columns", 40)
    pd.set_option("display.width", 160)
    pd.set_option("display.max_colwidth", 60)
    pd.set_option("display.float_format", fi_number)
    _show_finnish_tables_in_ipython()
    try:
        import seaborn as sns

        sns.set_theme(style="whitegrid", context="notebook", rc={"figure.figsize": (8, 4.5)})
    except ImportError:  # pragma: no cover - seaborn is a dependency; keep the lesson usable anyway
        pass


def limit_threads(n: int = 1) -> None:
    """Run numpy/scikit-learn's BLAS and OpenMP pools on `n` threads.

    Lessons work on small data, where threads only cost: on a shared teaching server or during
    parallel autograding every kernel spawning a thread per core oversubscribes the machine (a
    k-means scan measured 49 s with default threads and 0.4 s with one on a loaded 2-core box).
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return
    threadpool_limits(limits=n)


def setup(min_version: str = "0.0.0") -> None:
    """Prepare a lesson's kernel: version check, warnings to stdout, display options, one thread.

    Returns None, so the setup cell shows no output.
    """
    check_version(min_version)
    route_warnings_to_stdout()
    set_display()
    limit_threads()


#: the words every skipped check prints; the autograder finds them and leaves the cell to the teacher
SKIPPED_CHECK = "ei voi laskea tästä aineistosta"


def skip_check(missing: str) -> None:
    """Say that a check cannot be computed from this data because it lacks ``missing`` (a Finnish
    phrase, e.g. "kuluttaja-asiakkaita (B2C)"), and that the teacher grades the task by hand.

    A lesson run on a company's own data uses it instead of an assertion that would blame the
    student for what the data does not hold. ``crmkit autograde`` finds :data:`SKIPPED_CHECK` in the
    cell's output, scores the cell 0 and marks it for hand grading, so it is never free points.
    """
    print(f"Huom: aineistossa ei ole {missing}: tätä tarkistusta {SKIPPED_CHECK}; opettaja arvioi sen käsin.")
