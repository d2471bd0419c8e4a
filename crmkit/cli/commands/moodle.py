"""`crmkit moodle`: the Moodle round trip on Moodle's own files, with no file moved by hand.

    crmkit moodle collect SLUG SUBMISSIONS.zip [--worksheet WORKSHEET.csv]
    crmkit moodle feedback SLUG [--worksheet WORKSHEET.csv]

collect: reads the assignment's "Download all submissions" zip (with or without "Download
submissions in folders"), maps each participant to a student id (the grading worksheet's email
or ID number, per [moodle] in grading/policy.toml), places each notebook at
grading/submitted/<student>/SLUG/SLUG.ipynb with the submission time as nbgrader's timestamp.txt,
keeps every original under grading/moodle/SLUG/originals/, and lists every participant it could
not map or place, and why.

feedback: packs the safe feedback pages (`crmkit feedback SLUG` first) into
grading/moodle/SLUG/feedback-SLUG.zip for "Upload multiple feedback files in a zip", and fills the
grading worksheet (grade and a short comment) into grading/moodle/SLUG/worksheet-SLUG.csv for
"Upload grading worksheet". Exit status 1 when something needs a look (listed), 2 on bad input.
The final grades go to Moodle with `crmkit grades --moodle`.
"""

from __future__ import annotations

import argparse
import sys

from crmkit.cli.commands import find_course


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Subcommands ``collect`` and ``feedback`` and their options."""
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    collect = sub.add_parser("collect", help="place the notebooks of Moodle's submissions zip in grading/submitted/")
    collect.add_argument("assignment", help="the assignment (folder name in solutions/)")
    collect.add_argument("zip", help="the zip from Moodle's 'Download all submissions'")
    collect.add_argument("--worksheet", metavar="CSV", default=None,
                         help="the assignment's grading worksheet (maps participants; gives submission times)")
    feedback = sub.add_parser("feedback", help="feedback-files zip and filled grading worksheet for Moodle")
    feedback.add_argument("assignment", help="the assignment (folder name in solutions/)")
    feedback.add_argument("--worksheet", metavar="CSV", default=None,
                          help="a freshly downloaded grading worksheet (default: the one given to collect)")
    for p in (collect, feedback):
        p.add_argument("--policy", default=None, help="policy file with [moodle] (default grading/policy.toml)")
        p.add_argument("--course-dir", metavar="DIR", default=argparse.SUPPRESS,
                       help="the course directory (default: found from the working folder upward)")


def run(args: argparse.Namespace) -> int:
    """Run ``collect`` or ``feedback``; 1 when something needs the teacher's look."""
    from crmkit.engine import moodle

    course = find_course(args)
    settings = moodle.settings(course, args.policy)
    if args.action == "collect":
        from crmkit.engine.moodle.collect import collect, report

        res = collect(course, args.assignment, args.zip, args.worksheet, settings)
        print(report(course, res), end="")
        for line in res.written:
            print(line)
        return 1 if res.attention else 0
    from crmkit.engine.moodle.feedback import pack

    res = pack(course, args.assignment, args.worksheet, settings)
    print(f"moodle feedback {args.assignment}: {len(res.entries)} feedback file(s) in the zip, "
          f"{len(res.filled)} worksheet row(s) filled")
    for line in res.written:
        print(line)
    for note in res.notes:
        print(f"  - {note}", file=sys.stderr)
    if res.zip_path:
        print(f"Moodle: View all submissions → Grading action → Upload multiple feedback files in a zip: {res.zip_path}")
    if res.worksheet_path:
        print(f"Moodle: View all submissions → Grading action → Upload grading worksheet: {res.worksheet_path}")
    return 1 if res.notes else 0
