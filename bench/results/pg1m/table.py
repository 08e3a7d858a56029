"""Per page, the median of per-run medians of two sets of profile_pages.py outputs (section 11).

python3 bench/results/pg1m/table.py 'PATTERN_A' 'PATTERN_B'   # globs of result files
"""

from __future__ import annotations

import glob
import re
import statistics
import sys
from pathlib import Path

LINE = re.compile(
    r"^(\S+?)(?: after a write)? \((\S+) (\S+(?: cases)?)\): cpu median ([\d.]+) ms, "
    r"wall median ([\d.]+) ms, SQL median ([\d.]+) ms, server CPU median ([\d.]+) ms, "
    r"cpu\+server median ([\d.]+) ms; one request: (\d+) queries"
)


def load(pattern: str) -> tuple[dict[str, list[tuple[float, ...]]], list[str]]:
    pages: dict[str, list[tuple[float, ...]]] = {}
    loads = []
    for name in sorted(glob.glob(pattern)):
        for line in Path(name).read_text(encoding="utf-8").splitlines():
            if line.startswith("# ") and "load:" in line and not line.startswith("# end"):
                loads.append(line.split("load: ")[1].split()[0])
            m = LINE.match(line)
            if m:
                row = tuple(float(m.group(i)) for i in (4, 5, 6, 7, 8, 9))
                pages.setdefault(m.group(1), []).append(row)
    return pages, loads


def med(rows: list[tuple[float, ...]], i: int) -> float:
    return statistics.median(r[i] for r in rows)


def main() -> None:
    a, la = load(sys.argv[1])
    b, lb = load(sys.argv[2])
    print("loads A:", " ".join(la), " B:", " ".join(lb))
    print(
        "| page | A cpu | A server | A cpu+server (q) | B cpu | B server | B cpu+server (q) | change |"
    )
    for name, ra in a.items():
        rb = b.get(name)
        if rb is None:
            continue
        ta, tb = med(ra, 4), med(rb, 4)
        print(
            f"| {name} | {med(ra, 0):.1f} | {med(ra, 3):.1f} | {ta:.1f} ({int(med(ra, 5))}) "
            f"| {med(rb, 0):.1f} | {med(rb, 3):.1f} | {tb:.1f} ({int(med(rb, 5))}) "
            f"| {100 * (tb - ta) / ta:+.0f} % |  runs {len(ra)}/{len(rb)}"
        )


if __name__ == "__main__":
    main()
