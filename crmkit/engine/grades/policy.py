"""Load and validate a grading policy (``grading/policy.toml``): weights, scale and rules as data.

A policy names its categories, their weights and assignments, the H-5 thresholds, optional
per-category minimums, how missing and failed work counts, rules such as absence limits, and
the settings of the competence profile and the Moodle export. The full format, with every key,
is documented in ``grading/README.md``; ``grading/policy.toml`` (CUS4LH102) and
``grading/policies/sal4hm003.toml`` (the companion course) are worked examples.

Validation happens on load and reports every problem at once, each naming the file and the key:
weights must sum to exactly 1, every assignment named must exist (in ``solutions/`` or in the
gradebook, as ``assignments_from`` says), thresholds must ascend, no key may be misspelt.

Numbers are read as :class:`~decimal.Decimal` from their shortest decimal form (``0.2`` is
exactly 0.2), so that weights and thresholds compare exactly.
"""

from __future__ import annotations

import fnmatch
import os
import tomllib
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from crmkit.engine.coursedir import CourseDir
from crmkit.engine.grades import gradebook
from crmkit.runtime.errors import KitError

DEFAULT_POLICY = Path("grading") / "policy.toml"

#: the H-5 scale used when a policy has no [scale]: lowest weighted % for each grade
DEFAULT_THRESHOLDS = (("1", Decimal(50)), ("2", Decimal(60)), ("3", Decimal(70)), ("4", Decimal(80)),
                      ("5", Decimal(90)))
DEFAULT_FAIL = "H"

ASSIGNMENT_SOURCES = ("solutions", "gradebook")
MISSING_CHOICES = ("zero", "incomplete")
FAILED_CHOICES = ("zero", "missing")
COMBINE_CHOICES = ("mean", "points")
RULE_TYPES = ("absence",)
RULE_EFFECTS = ("lower_one_step", "fail")

_TOP_KEYS = {"course", "title", "assignments_from", "decimals", "missing_counts_as", "failed_counts_as",
             "ignore_students", "categories", "scale", "rules", "attendance", "profile", "moodle"}
_CATEGORY_KEYS = {"name", "title", "weight", "assignments", "minimum", "combine"}
_SCALE_KEYS = {"fail", "thresholds"}
_RULE_KEYS = {"type", "over", "effect"}
_ATTENDANCE_KEYS = {"file"}
_PROFILE_KEYS = {"threshold", "exclude", "outcomes"}
_MOODLE_KEYS = {"id_column", "id_map", "fail_value", "grade_column", "identify_by", "timezone", "worksheet_headers"}
#: the Moodle user fields that can identify a student, and the grade-import column named after each
#: (Moodle's language strings ``idnumber`` = "ID number", ``email`` = "Email address", lang/en/moodle.php)
IDENTIFY_BY = {"id_number": "ID number", "email": "Email address"}
#: the grading worksheet's columns the kit reads or fills (keys of ``[moodle] worksheet_headers``)
WORKSHEET_KEYS = ("identifier", "full_name", "email", "id_number", "status", "grade", "maximum_grade", "scale",
                  "last_modified_submission", "last_modified_grade", "feedback_comments")


class PolicyError(KitError):
    """The policy file cannot be used; ``problems`` lists every reason."""

    def __init__(self, path, problems: list[str]):
        self.path = Path(path)
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"grading policy {self.path}: {len(self.problems)} problem(s):\n{lines}")


@dataclass(frozen=True)
class Category:
    """One weighted category, e.g. ``harjoitukset`` 0.30 with the weekly lessons."""

    name: str
    title: str
    weight: Decimal
    assignments: tuple[str, ...]  # resolved slugs, in policy order (patterns expanded, sorted)
    written: tuple[str, ...]  # the names and patterns as written in the file
    minimum: Decimal | None = None  # the rounded category % must be >= this, else the grade is the fail grade
    combine: str = "mean"  # "mean" of assignment percentages, or "points": sum of scores / sum of max


@dataclass(frozen=True)
class Rule:
    """A rule applied after the thresholds, e.g. absence over 25 % lowers the grade one step."""

    type: str
    over: Decimal
    effect: str

    def describe(self) -> str:
        what = {"lower_one_step": "lowers the grade one step", "fail": "fails the course"}[self.effect]
        return f"{self.type} over {self.over:f} % {what}"


@dataclass(frozen=True)
class MoodleSettings:
    """How the kit meets Moodle: who is who, and how the grade-import CSV is written.

    ``identify_by`` names the Moodle user field that identifies a student both ways (the grading
    worksheet's column of that field maps a participant to a student id; the grade import finds the
    user by it). ``id_map`` (CSV ``student_id,identifier``) maps that field's value to the nbgrader
    student id; without it the value itself is the student id (for ``email``: the part before "@").
    """

    id_column: str = "ID number"  # the grade-import CSV's identifier column (default: after identify_by)
    id_map: Path | None = None  # CSV student_id,identifier; None: see the class docstring
    fail_value: str = "0"  # what the fail grade (H) becomes in Moodle (0 on a 0-5 grade item, "H" on a scale)
    grade_column: str = "Arvosana"  # the final grade's column
    identify_by: str = "id_number"  # "id_number" or "email" (keys of IDENTIFY_BY)
    timezone: str = "Europe/Helsinki"  # the time zone of the dates in the grading worksheet (the downloader's)
    worksheet_headers: tuple = ()  # ((key, header), ...) overriding the English worksheet headers


@dataclass
class Policy:
    """A validated grading policy."""

    path: Path
    root: Path  # the course directory relative paths in the policy are resolved against
    course: str
    title: str
    assignments_from: str
    categories: list[Category]
    fail_grade: str = DEFAULT_FAIL
    thresholds: tuple[tuple[str, Decimal], ...] = DEFAULT_THRESHOLDS
    decimals: int = 2
    missing_counts_as: str = "zero"
    failed_counts_as: str = "zero"
    ignore_students: tuple[str, ...] = ()
    rules: list[Rule] = field(default_factory=list)
    attendance_file: Path | None = None
    profile_threshold: Decimal = Decimal(60)
    profile_exclude: tuple[str, ...] = ()
    profile_outcomes: dict[str, str] = field(default_factory=dict)  # id -> name, in order ({}: from the notebooks)
    moodle: MoodleSettings = field(default_factory=MoodleSettings)
    available: tuple[str, ...] = ()  # the assignments that existed when the policy was checked

    @property
    def grades(self) -> list[str]:
        """The scale from lowest to highest: ``["H", "1", "2", "3", "4", "5"]``."""
        return [self.fail_grade] + [g for g, _ in self.thresholds]

    @property
    def assignments(self) -> list[str]:
        """Every assignment that counts toward the grade, in category order."""
        return [a for c in self.categories for a in c.assignments]

    def category_of(self, assignment: str) -> Category | None:
        for c in self.categories:
            if assignment in c.assignments:
                return c
        return None

    def ignored(self, student: str) -> bool:
        """True for students the policy leaves out (demo and quality-gate students)."""
        return any(fnmatch.fnmatchcase(student, p) for p in self.ignore_students)

    def profile_assignments(self) -> list[str]:
        """Assignments that count for the competence profile: all available but the excluded."""
        return [a for a in self.available if not any(fnmatch.fnmatchcase(a, p) for p in self.profile_exclude)]

    def uncounted(self) -> list[str]:
        """Available assignments no category counts (e.g. 00_aloitus, naytto)."""
        counted = set(self.assignments)
        return [a for a in self.available if a not in counted]


def _is_pattern(name: str) -> bool:
    return any(ch in name for ch in "*?[")


def _decimal(value, where: str, problems: list[str]) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        problems.append(f"{where}: expected a number, got {value!r}")
        return None
    return Decimal(str(value))


def _check_keys(table, allowed: set[str], where: str, problems: list[str]) -> None:
    if not isinstance(table, dict):
        problems.append(f"{where}: expected a table, got {table!r}")
        return
    for key in table:
        if key not in allowed:
            problems.append(f"{where}: unknown key {key!r} (allowed: {', '.join(sorted(allowed))})")


def _choice(value, choices, where: str, problems: list[str]):
    if value not in choices:
        problems.append(f"{where} = {value!r}: use one of {', '.join(repr(c) for c in choices)}")
    return value


def available_assignments(source: str, course: CourseDir) -> list[str]:
    """The assignments that exist: folders ``solutions/<slug>/<slug>.ipynb`` or the gradebook's."""
    if source == "solutions":
        return course.assignments()

    return gradebook.assignment_names(course)


def resolve(course: CourseDir, path: str | os.PathLike | None) -> Path:
    """The policy file: ``path`` (relative to the working folder or the course), default grading/policy.toml."""
    root = course.root
    if path is None:
        return root / DEFAULT_POLICY
    p = Path(path)
    if p.is_absolute() or p.exists():
        return p
    return root / p


def load(course: CourseDir, path: str | os.PathLike | None = None, *,
         available: list[str] | None = None, check_assignments: bool = True) -> Policy:
    """Read and validate a policy; raise :class:`PolicyError` listing every problem.

    ``available`` overrides the assignments that exist (otherwise read from ``assignments_from``).
    ``check_assignments=False`` tolerates named assignments that do not exist yet (they are left
    out of the categories): for the competence profile, which needs only the policy's settings.
    """
    path = resolve(course, path)
    if not path.exists():
        raise PolicyError(path, [f"no such file (the default policy is {DEFAULT_POLICY})"])
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as e:
        raise PolicyError(path, [f"not UTF-8 text: {e}"]) from None
    except tomllib.TOMLDecodeError as e:
        raise PolicyError(path, [f"not valid TOML: {e}"]) from None

    problems: list[str] = []
    absent: list[str] = []  # named assignments that do not exist (problems unless check_assignments=False)
    _check_keys(data, _TOP_KEYS, "top level", problems)

    source = _choice(data.get("assignments_from", "solutions"), ASSIGNMENT_SOURCES, "assignments_from", problems)
    if available is None and source in ASSIGNMENT_SOURCES:
        try:
            available = available_assignments(source, course)
        except Exception as e:  # a gradebook that cannot be read is a problem of this check, said clearly
            problems.append(f"assignments_from = {source!r}: cannot list the assignments: {e}")
            available = []
    available = sorted(available or [])
    where_from = "solutions/ (solutions/<slug>/<slug>.ipynb)" if source == "solutions" else "the gradebook"

    decimals = data.get("decimals", 2)
    if isinstance(decimals, bool) or not isinstance(decimals, int) or not 0 <= decimals <= 6:
        problems.append(f"decimals = {decimals!r}: use a whole number 0-6")
        decimals = 2

    # --- categories
    categories: list[Category] = []
    raw_categories = data.get("categories")
    if not isinstance(raw_categories, list) or not raw_categories:
        problems.append("no [[categories]]: a policy needs at least one category with a weight and assignments")
        raw_categories = []
    seen_names: set[str] = set()
    owner: dict[str, str] = {}
    for i, cat in enumerate(raw_categories, start=1):
        where = f"[[categories]] #{i}"
        if not isinstance(cat, dict):
            problems.append(f"{where}: expected a table")
            continue
        name = cat.get("name")
        if isinstance(name, str) and name:
            where = f"category {name!r}"
        else:
            problems.append(f"{where}: needs a name")
            name = f"#{i}"
        _check_keys(cat, _CATEGORY_KEYS, where, problems)
        if name in seen_names:
            problems.append(f"{where}: the name is used twice")
        seen_names.add(name)
        weight = _decimal(cat.get("weight"), f"{where}: weight", problems) if "weight" in cat else None
        if "weight" not in cat:
            problems.append(f"{where}: needs a weight (a share of the final grade, e.g. 0.3)")
        elif weight is not None and not Decimal(0) < weight <= Decimal(1):
            problems.append(f"{where}: weight {weight} must be > 0 and <= 1")
        minimum = None
        if "minimum" in cat:
            minimum = _decimal(cat["minimum"], f"{where}: minimum", problems)
            if minimum is not None and not Decimal(0) <= minimum <= Decimal(100):
                problems.append(f"{where}: minimum {minimum} % must be between 0 and 100")
        combine = _choice(cat.get("combine", "mean"), COMBINE_CHOICES, f"{where}: combine", problems)
        written = cat.get("assignments")
        if not isinstance(written, list) or not written or not all(isinstance(a, str) and a for a in written):
            problems.append(f"{where}: assignments must be a non-empty list of assignment names or patterns")
            written = []
        slugs: list[str] = []
        for a in written:
            if _is_pattern(a):
                matched = [s for s in available if fnmatch.fnmatchcase(s, a)]
                if not matched:
                    absent.append(f"{where}: pattern {a!r} matches no assignment in {where_from} "
                                    f"(there: {', '.join(available) or 'none'})")
                slugs += [m for m in matched if m not in slugs]
            elif a not in available:
                absent.append(f"{where}: assignment {a!r} does not exist in {where_from} "
                                f"(there: {', '.join(available) or 'none'})")
            elif a not in slugs:
                slugs.append(a)
        for s in slugs:
            if s in owner and owner[s] != name:
                problems.append(f"{where}: assignment {s!r} is also in category {owner[s]!r}; "
                                "an assignment counts in one category only")
            owner.setdefault(s, name)
        title = cat.get("title", name)
        categories.append(Category(name=name, title=str(title), weight=weight or Decimal(0),
                                   assignments=tuple(slugs), written=tuple(written), minimum=minimum,
                                   combine=combine))
    total = sum((c.weight for c in categories), Decimal(0))
    if categories and total != Decimal(1):
        parts = " + ".join(f"{c.name} {c.weight}" for c in categories)
        problems.append(f"the category weights sum to {total} ({parts}); they must sum to exactly 1")

    # --- scale
    scale = data.get("scale", {})
    _check_keys(scale, _SCALE_KEYS, "[scale]", problems)
    scale = scale if isinstance(scale, dict) else {}
    fail_grade = scale.get("fail", DEFAULT_FAIL)
    if not isinstance(fail_grade, str) or not fail_grade:
        problems.append(f"[scale] fail = {fail_grade!r}: give the fail grade's name, e.g. \"H\"")
        fail_grade = DEFAULT_FAIL
    thresholds = DEFAULT_THRESHOLDS
    if "thresholds" in scale:
        raw = scale["thresholds"]
        if not isinstance(raw, dict) or not raw:
            problems.append("[scale] thresholds: give a table grade = lowest %, e.g. { \"1\" = 50, \"2\" = 60 }")
        else:
            parsed = []
            for grade, value in raw.items():
                d = _decimal(value, f"[scale] thresholds.{grade}", problems)
                if d is None:
                    continue
                if not Decimal(0) <= d <= Decimal(100):
                    problems.append(f"[scale] thresholds.{grade} = {d}: a threshold is a percentage 0-100")
                parsed.append((grade, d))
            for (g1, d1), (g2, d2) in zip(parsed, parsed[1:]):
                if not d2 > d1:
                    problems.append(f"[scale] thresholds do not ascend: grade {g2} needs {d2} %, which is not "
                                    f"above grade {g1}'s {d1} %; list the grades from lowest to highest "
                                    "with strictly rising thresholds")
            if fail_grade in raw:
                problems.append(f"[scale] thresholds: the fail grade {fail_grade!r} gets no threshold "
                                "(it is what remains below the lowest one)")
            thresholds = tuple(parsed)

    missing = _choice(data.get("missing_counts_as", "zero"), MISSING_CHOICES, "missing_counts_as", problems)
    failed = _choice(data.get("failed_counts_as", "zero"), FAILED_CHOICES, "failed_counts_as", problems)

    ignore = data.get("ignore_students", [])
    if not isinstance(ignore, list) or not all(isinstance(p, str) for p in ignore):
        problems.append("ignore_students: a list of student-id patterns, e.g. [\"demo_*\"]")
        ignore = []

    # --- rules and attendance
    rules: list[Rule] = []
    raw_rules = data.get("rules", [])
    if not isinstance(raw_rules, list):
        problems.append("rules: use [[rules]] tables")
        raw_rules = []
    for i, rule in enumerate(raw_rules, start=1):
        where = f"[[rules]] #{i}"
        _check_keys(rule, _RULE_KEYS, where, problems)
        if not isinstance(rule, dict):
            continue
        rtype = _choice(rule.get("type"), RULE_TYPES, f"{where}: type", problems)
        effect = _choice(rule.get("effect"), RULE_EFFECTS, f"{where}: effect", problems)
        over = _decimal(rule.get("over"), f"{where}: over", problems)
        if over is not None and not Decimal(0) <= over < Decimal(100):
            problems.append(f"{where}: over = {over}: a percentage 0-100")
        if rtype in RULE_TYPES and effect in RULE_EFFECTS and over is not None:
            rules.append(Rule(rtype, over, effect))
    attendance_file = None
    if "attendance" in data:
        _check_keys(data["attendance"], _ATTENDANCE_KEYS, "[attendance]", problems)
        f = data["attendance"].get("file") if isinstance(data["attendance"], dict) else None
        if not isinstance(f, str) or not f:
            problems.append("[attendance] file: the attendance CSV, relative to the course directory")
        else:
            attendance_file = Path(f) if Path(f).is_absolute() else course.root / f
    if any(r.type == "absence" for r in rules) and attendance_file is None:
        problems.append("absence rules need [attendance] file = \"...csv\" (or pass --attendance)")

    # --- profile
    prof = data.get("profile", {})
    _check_keys(prof, _PROFILE_KEYS, "[profile]", problems)
    prof = prof if isinstance(prof, dict) else {}
    threshold = Decimal(60)
    if "threshold" in prof:
        threshold = _decimal(prof["threshold"], "[profile] threshold", problems) or Decimal(60)
        if not Decimal(0) < threshold <= Decimal(100):
            problems.append(f"[profile] threshold = {threshold}: a percentage above 0 and at most 100")
    exclude = prof.get("exclude", [])
    if not isinstance(exclude, list) or not all(isinstance(p, str) for p in exclude):
        problems.append("[profile] exclude: a list of assignment names or patterns")
        exclude = []
    outcomes = prof.get("outcomes", {})
    if not isinstance(outcomes, dict) or not all(isinstance(k, str) and isinstance(v, str) and v
                                                 for k, v in outcomes.items()):
        problems.append("[profile.outcomes]: a table of learning-outcome ids and their names, e.g. A1 = \"…\"")
        outcomes = {}

    # --- moodle
    moodle_raw = data.get("moodle", {})
    _check_keys(moodle_raw, _MOODLE_KEYS, "[moodle]", problems)
    moodle_raw = moodle_raw if isinstance(moodle_raw, dict) else {}
    id_map = moodle_raw.get("id_map")
    if id_map is not None and (not isinstance(id_map, str) or not id_map):
        problems.append("[moodle] id_map: a CSV file student_id,identifier relative to the course directory")
        id_map = None
    identify_by = moodle_raw.get("identify_by", "id_number")
    if identify_by not in IDENTIFY_BY:
        problems.append(f"[moodle] identify_by = {identify_by!r}: use one of "
                        + ", ".join(repr(k) for k in IDENTIFY_BY))
        identify_by = "id_number"
    tz = moodle_raw.get("timezone", "Europe/Helsinki")
    try:
        from zoneinfo import ZoneInfo

        ZoneInfo(str(tz))
    except Exception:  # noqa: BLE001 - any failure means the name is unusable here
        problems.append(f"[moodle] timezone = {tz!r}: not a time zone name such as \"Europe/Helsinki\"")
        tz = "Europe/Helsinki"
    headers = moodle_raw.get("worksheet_headers", {})
    if not isinstance(headers, dict) or not all(isinstance(v, str) and v for v in headers.values()):
        problems.append("[moodle] worksheet_headers: a table of column names, e.g. { grade = \"Arvosana\" }")
        headers = {}
    for key in headers:
        if key not in WORKSHEET_KEYS:
            problems.append(f"[moodle] worksheet_headers: unknown key {key!r} (allowed: {', '.join(WORKSHEET_KEYS)})")
    moodle = MoodleSettings(
        id_column=str(moodle_raw.get("id_column", IDENTIFY_BY[identify_by])),
        id_map=(Path(id_map) if Path(id_map).is_absolute() else course.root / id_map) if id_map else None,
        fail_value=str(moodle_raw.get("fail_value", "0")),
        grade_column=str(moodle_raw.get("grade_column", "Arvosana")),
        identify_by=identify_by,
        timezone=str(tz),
        worksheet_headers=tuple((k, v) for k, v in headers.items() if k in WORKSHEET_KEYS),
    )

    for key in ("course", "title"):
        if key in data and not isinstance(data[key], str):
            problems.append(f"{key}: expected text")
    if check_assignments:
        problems = absent + problems
    if problems:
        raise PolicyError(path, problems)
    return Policy(path=path, root=course.root, course=str(data.get("course", "")), title=str(data.get("title", "")),
                  assignments_from=source, categories=categories, fail_grade=fail_grade,
                  thresholds=tuple(thresholds), decimals=decimals, missing_counts_as=missing,
                  failed_counts_as=failed, ignore_students=tuple(ignore), rules=rules,
                  attendance_file=attendance_file, profile_threshold=threshold,
                  profile_exclude=tuple(exclude), profile_outcomes=dict(outcomes), moodle=moodle, available=tuple(available))
