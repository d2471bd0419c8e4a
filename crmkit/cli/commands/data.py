"""`crmkit data`: generate the sample data world deterministically."""

from __future__ import annotations

import time
from pathlib import Path

from crmkit.cli.commands import find_course


def add_arguments(parser) -> None:
    """Options of `crmkit data`."""
    parser.add_argument("--seed", type=int, default=2026, help="random seed (default 2026, the committed data/)")
    parser.add_argument("--scale", type=float, default=1.0, help="size multiplier (1 = about 2,700 customers)")
    parser.add_argument("--shift-years", type=int, default=0,
                        help="move every date by whole years (e.g. 2: the same world two years later, for a "
                             "rerun course or to check that no lesson hard-codes a year)")
    parser.add_argument("--out", default=None, help="output folder (default: the course's data/)")


def run(args) -> int:
    """Generate and write the world; print what was written."""
    from crmkit.course.world.dictionary import update_data_md
    from crmkit.course.world.generate import write_world

    if args.out is None:
        args.out = str(find_course(args).root / "data")
    t0 = time.perf_counter()
    world = write_world(args.out, seed=args.seed, scale=args.scale, shift_years=args.shift_years)
    docs = Path(args.out) / "DATA.md"
    if docs.exists() and update_data_md(docs):
        print(f"updated the data dictionary in {docs}")
    rows = sum(len(df) for df in world.tables.values())
    shift = f", moved {args.shift_years:+d} years" if args.shift_years else ""
    print(f"data world (seed {args.seed}, scale {args.scale:g}{shift}) written to {args.out}: "
          f"{len(world.tables)} tables, {rows:,} rows in {time.perf_counter() - t0:.1f} s")
    return 0
