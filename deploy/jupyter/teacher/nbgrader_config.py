"""nbgrader for a teacher's server on the course hub (JUPYTER_CONFIG_PATH points here).

The course directory's own nbgrader_config.py is the configuration (the same file a teacher uses
on a laptop); the hub only says where the course is (CRMKIT_COURSE_DIR) and, through variables
that file reads, where the shared exchange and the gradebook are (CRMKIT_EXCHANGE_ROOT,
CRMKIT_DB_URL). groupshared: several teachers share the course directory and the exchange's
inbound folder through the teachers' group.
"""

import os

c = get_config()  # noqa: F821 - injected by traitlets

_course = os.environ.get("CRMKIT_COURSE_DIR", "")
if not _course or not os.path.isfile(os.path.join(_course, "nbgrader_config.py")):
    raise RuntimeError(f"CRMKIT_COURSE_DIR={_course!r} is not a course directory (no nbgrader_config.py); "
                       "the hub sets it for teachers (deploy/hub/crmkit_hub.py)")
load_subconfig(os.path.join(_course, "nbgrader_config.py"))  # noqa: F821 - injected by traitlets
c.CourseDirectory.groupshared = True
