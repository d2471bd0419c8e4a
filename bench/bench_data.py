"""Benchmark: data-world generation time and throughput at scale 1 and 10.

Prints, per scale, the best-of-N time of generating the tables in memory and of writing them
(CSV + SQLite + the messy export) to a temporary folder, the rows per second, and how time grows
with scale (the exponent of time ~ scale^k; 1.0 is linear). Run with `make bench`.
"""

from __future__ import annotations

import math
import tempfile
import time

from crmkit.course.world.generate import generate_world, write_world

SCALES = (1, 10)
REPEATS = {1: 3, 10: 2}


def best_time(fn, repeats: int) -> tuple[float, object]:
    """Smallest wall time of `repeats` calls, and the last result."""
    best, result = math.inf, None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def main() -> None:
    """Run the benchmark and print a table."""
    rows = {}
    print(f"{'scale':>5} {'rows':>10} {'generate s':>11} {'rows/s':>11} {'write s':>9} {'rows/s':>11}")
    for scale in SCALES:
        gen_s, world = best_time(lambda: generate_world(scale=scale), REPEATS[scale])
        n = sum(len(df) for df in world.tables.values())
        with tempfile.TemporaryDirectory() as tmp:
            write_s, _ = best_time(lambda: write_world(tmp, scale=scale), REPEATS[scale])
        rows[scale] = (n, gen_s, write_s)
        print(f"{scale:>5} {n:>10,} {gen_s:>11.2f} {n / gen_s:>11,.0f} {write_s:>9.2f} {n / write_s:>11,.0f}")
    (n1, g1, w1), (n10, g10, w10) = rows[1], rows[10]
    k_gen = math.log(g10 / g1) / math.log(10)
    k_write = math.log(w10 / w1) / math.log(10)
    print(f"rows x{n10 / n1:.1f}; generate time x{g10 / g1:.1f} (exponent {k_gen:.2f}); "
          f"write time x{w10 / w1:.1f} (exponent {k_write:.2f}); 1.00 = linear in scale")


if __name__ == "__main__":
    main()
