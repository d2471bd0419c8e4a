"""Grading on top of nbgrader: policy, final grades, Moodle export, competence profile, class report.

One module, one job:

* :mod:`crmkit.grading.policy` – load and validate a grading policy (``grading/policy.toml``);
* :mod:`crmkit.grading.gradebook` – read scores, statuses and per-cell grades from nbgrader's
  gradebook, the autograde status files (``grading/status/<assignment>.json``) and
  ``grading/submitted/``;
* :mod:`crmkit.grading.attendance` – read an attendance CSV for absence rules;
* :mod:`crmkit.grading.final` – weighted percentages, category minimums, missing/failed work,
  rules, the H-5 grade with exact boundaries;
* :mod:`crmkit.grading.moodle` – the Moodle grade-import CSV;
* :mod:`crmkit.grading.profile` – levels shown per learning outcome (competence profile);
* :mod:`crmkit.grading.report` – the class report (one self-contained HTML page);
* :mod:`crmkit.grading.output` – write output files atomically, keeping any previous version.

The rules (rounding, missing and failed work, the profile rule) are written out in
``grading/README.md``.
"""
