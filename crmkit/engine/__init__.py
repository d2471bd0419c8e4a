"""The grading engine: course-agnostic, on top of nbgrader.

It knows nbgrader and a course directory (:mod:`.coursedir`), never this course's assignments:

* :mod:`.coursedir` – the course directory, found from the working folder, with nbgrader's config;
* :mod:`.cells` – what a graded cell is, and nbgrader's solution / hidden-test markers;
* :mod:`.nbg` – nbgrader's steps (generate, submit, autograde, scores) from Python;
* :mod:`.status` – the autograde status file: its one reader and writer;
* :mod:`.autograde` – parallel, sandboxed autograding with warm kernels;
* :mod:`.feedback` – feedback pages that never show hidden tests;
* :mod:`.grades` – policy, final grades H-5, competence profiles, class report, Moodle's grade import;
* :mod:`.moodle` – Moodle's files: the submissions zip in, the feedback zip and grading worksheet out;
* :mod:`.jupyter_env` – Jupyter's state kept out of the user's home.

It may import the student runtime (:mod:`crmkit.runtime`), nothing else of the kit.
"""
