"""nbgrader's configuration: the repository root IS the course directory (DESIGN.md §5).

Plain ``nbgrader generate_assignment 00_aloitus`` and ``nbgrader autograde 00_aloitus`` work
from the root, and so does the formgrader: in nbgrader 0.9 it is a Jupyter server extension, not
a command, so it is JupyterLab started in the root (``make lab``; menu Nbgrader -> Formgrader). Every folder ``solutions/<slug>/`` with a notebook
``<slug>.ipynb`` is an assignment. nbgrader's defaults are kept unless a comment says why not.

Everything nbgrader writes (gradebook, submissions, autograded copies, feedback, the exchange and
its cache) lands under ``grading/``, which is git-ignored except for the grading policy.

The root is the folder of this file, not the current working directory, so the same
configuration works from a temporary copy of the course (the quality gates grade there).
"""

import os

c = get_config()  # noqa: F821 - injected by traitlets when it loads this file

_root = os.path.dirname(os.path.abspath(__file__))
_grading = os.path.join(_root, "grading")
# SQLite cannot create the gradebook's folder; a fresh clone or a copy may not have grading/ yet.
os.makedirs(_grading, exist_ok=True)

# The course id shown in formgrader and used by the exchange (the module code, lower case).
c.CourseDirectory.course_id = "cus4lh102"

# The course directory: this folder, wherever the repository (or a copy of it) lives.
c.CourseDirectory.root = _root

# Instructor notebooks with solutions and hidden tests (nbgrader's "source").
c.CourseDirectory.source_directory = "solutions"

# Student notebooks generated from solutions/ by `nbgrader generate_assignment` (nbgrader's
# "release"); committed, never edited by hand.
c.CourseDirectory.release_directory = "notebooks"

# Student submissions, collected or copied in: grading/submitted/<student>/<slug>/<slug>.ipynb.
c.CourseDirectory.submitted_directory = "grading/submitted"

# Autograded copies of the submissions (with the hidden tests put back and executed).
c.CourseDirectory.autograded_directory = "grading/autograded"

# HTML feedback per student; hidden tests are never shown in it (DESIGN.md §5).
c.CourseDirectory.feedback_directory = "grading/feedback"

# `nbgrader generate_solution` output (not used by the kit yet); kept out of the root.
c.CourseDirectory.solution_directory = "grading/solution"

# Notebooks with instantiated autotests (only used if a notebook uses AUTOTEST directives).
c.CourseDirectory.source_with_tests_directory = "grading/source_with_tests"

# The gradebook: one SQLite file inside grading/ (nbgrader's default would be <root>/gradebook.db).
# CRMKIT_DB_URL overrides it, e.g. PostgreSQL once several graders write (the course hub gives it
# to teachers' servers only: deploy/).
c.CourseDirectory.db_url = os.environ.get("CRMKIT_DB_URL") or "sqlite:///" + os.path.join(_grading, "gradebook.db")

# The exchange used by `nbgrader release_assignment / collect / submit` on a shared machine.
# nbgrader's default is the system-wide /srv/nbgrader/exchange, which needs root; the kit keeps it
# inside the repository so a teacher can try the whole flow on a laptop. On the course hub,
# CRMKIT_EXCHANGE_ROOT names the shared exchange (deploy/).
c.Exchange.root = os.environ.get("CRMKIT_EXCHANGE_ROOT") or os.path.join(_grading, "exchange")

# The students' local cache for `nbgrader submit` and `nbgrader list`; nbgrader's default is
# $JUPYTER_DATA_DIR/nbgrader_cache, which may be the user's home. The kit writes nothing there.
c.Exchange.cache = os.path.join(_grading, "exchange_cache")

# Seconds one cell may run during autograding (nbgrader's default is 30). The lessons' heavier
# cells (clustering, cohort tables on the full data world, the first import of pandas/seaborn on a
# cold machine) can take longer than 30 s on a loaded CI runner or a student's laptop; 120 s
# still stops an endless loop in a student's answer in reasonable time.
c.Execute.timeout = 120

# The stubs that replace solution regions in the release, in the course language (Finnish).
# nbgrader's defaults are English ("YOUR CODE HERE"); the stub still raises NotImplementedError so
# an unanswered exercise fails loudly and the quality gates can tell a stub from a real error.
c.ClearSolutions.code_stub = {
    "python": "# KIRJOITA RATKAISUSI TÄHÄN\nraise NotImplementedError(\"Tehtävään ei ole vielä vastattu.\")",
}
c.ClearSolutions.text_stub = "KIRJOITA VASTAUKSESI TÄHÄN"

# The release must not carry the teacher-only `crmkit.wrong` metadata (named wrong answers and the
# messages the tests give for them): nbgrader's own preprocessors run first, then the kit's
# StripWrongAnswers. Needs the crmkit package, which the course environment always has.
from crmkit.engine.nbg import generate_preprocessors  # noqa: E402

c.GenerateAssignment.preprocessors = generate_preprocessors()
