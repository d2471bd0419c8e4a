"""Grading on top of nbgrader: policy, final grades, Moodle export, competence profile, class report.

One module, one job:

* :mod:`crmkit.engine.grades.policy` – load and validate a grading policy (``grading/policy.toml``);
* :mod:`crmkit.engine.grades.gradebook` – read scores, statuses and per-cell grades from nbgrader's
  gradebook, the autograde status files (``grading/status/<assignment>.json``) and
  ``grading/submitted/``;
* :mod:`crmkit.engine.grades.attendance` – read an attendance CSV for absence rules;
* :mod:`crmkit.engine.grades.final` – weighted percentages, category minimums, missing/failed work,
  rules, the H-5 grade with exact boundaries;
* :mod:`crmkit.engine.grades.moodle` – the Moodle grade-import CSV;
* :mod:`crmkit.engine.grades.profile` – levels shown per learning outcome (competence profile);
* :mod:`crmkit.engine.grades.report` – the class report (one self-contained HTML page);
* :mod:`crmkit.engine.grades.output` – write output files atomically, keeping any previous version.

The rules (rounding, missing and failed work, the profile rule) are written out in
``grading/README.md``.
"""
