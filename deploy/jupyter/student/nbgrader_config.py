"""nbgrader for a student's server on the course hub (JUPYTER_CONFIG_PATH points here).

Only the exchange: the course id and where the exchange is come from the hub
(deploy/hub/crmkit_hub.py, role_environment). A student never reads the course directory.
"""

import os

c = get_config()  # noqa: F821 - injected by traitlets

c.CourseDirectory.course_id = os.environ.get("CRMKIT_COURSE_ID", "cus4lh102")
c.Exchange.root = os.environ.get("CRMKIT_EXCHANGE_ROOT", "/srv/nbgrader/exchange")
