"""One module per ``crmkit`` subcommand (see :mod:`crmkit.cli`), and what they share."""

from __future__ import annotations


def find_course(args):
    """The course the command works on: ``--course-dir``, else found from the working folder."""
    from crmkit.engine.coursedir import CourseDir

    return CourseDir.find(args.course_dir)
