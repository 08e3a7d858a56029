import re, sys, glob, statistics
# usage: table.py PATTERN_A PATTERN_B  (globs of result files); prints per page median of per-run medians
LINE = re.compile(r"^(\S+?)(?: after a write)? \((\S+) (\S+(?: cases)?)\): cpu median ([\d.]+) ms, wall median ([\d.]+) ms, SQL median ([\d.]+) ms, server CPU median ([\d.]+) ms, cpu\+server median ([\d.]+) ms; one request: (\d+) queries")
def load(pattern):
    pages = {}
    loads = []
    for f in sorted(glob.glob(pattern)):
        for line in open(f):
            if line.startswith("# ") and "load:" in line and not line.startswith("# end"):
                loads.append(line.split("load: ")[1].split()[0])
            m = LINE.match(line)
            if m:
                name = m.group(1)
                pages.setdefault(name, []).append(tuple(float(m.group(i)) for i in (4,5,6,7,8,9)))
    return pages, loads
def med(rows, i): return statistics.median(r[i] for r in rows)
a, la = load(sys.argv[1]); b, lb = load(sys.argv[2])
print("loads A:", " ".join(la), " B:", " ".join(lb))
print("| page | A cpu | A server | A cpu+server (q) | B cpu | B server | B cpu+server (q) | change |")
for name in a:
    if name not in b: continue
    ra, rb = a[name], b[name]
    ta, tb = med(ra,4), med(rb,4)
    print(f"| {name} | {med(ra,0):.1f} | {med(ra,3):.1f} | {ta:.1f} ({int(med(ra,5))}) | {med(rb,0):.1f} | {med(rb,3):.1f} | {tb:.1f} ({int(med(rb,5))}) | {100*(tb-ta)/ta:+.0f} % |  runs {len(ra)}/{len(rb)}")
