#!/usr/bin/env python3
"""Scores one corpus run: score.py EXPECTED KERNEL MAP EVENTS.jsonl.

For each case, its first and second failure (the case's pid, the expected syscall and errno) are compared with the
expected origin for that kernel. A case is 'first' (right at the first failure), 'zoom' (right only at the second,
after whyfail watched more), 'wrong' (an origin, not the right one) or 'none' (no origin). 'high while wrong' counts
failures whose wrong origin was claimed with high confidence (the goal is 0)."""
import json
import sys

expected_path, kernel, map_path, events_path = sys.argv[1:5]
col = 3 if kernel.startswith("6.1") and not kernel.startswith("6.12") else 4
expect = {}
for line in open(expected_path):
    if line.startswith("#") or not line.strip():
        continue
    f = line.rstrip("\n").split("\t")
    expect[f[0]] = (f[1], f[2], f[col])
pids = {}
for line in open(map_path):
    pid, case = line.split()
    pids[int(pid)] = case
failures = {c: [] for c in expect}
for line in open(events_path):
    try:
        ev = json.loads(line)
    except ValueError:
        continue
    if ev.get("type") != "syscall" or ev.get("pid") not in pids:
        continue
    case = pids[ev["pid"]]
    sc, errno, _ = expect[case]
    if ev.get("syscall") == sc and ev.get("errno") == errno:
        failures[case].append(ev.get("origin"))


def right(o, want):
    if not o:
        return False
    if want.startswith("function:"):
        return o.get("function") in want[len("function:"):].split("|")
    if want.startswith("lsm:"):
        return o.get("kind") == "lsm" and o.get("module") == want[4:]
    return o.get("kind") == want


def show(o):
    if not o:
        return "(none)"
    name = o.get("function") or ""
    kind = o.get("kind", "function")
    s = name if kind == "function" else f"[{kind}{(' ' + o['module']) if o.get('module') else ''}] {name}".strip()
    way = o.get('found_by', '?') + (f" by {o['zoomed_by']}" if o.get('zoomed_by') else "")
    return f"{s} ({o.get('confidence')}{', deeper' if o.get('deeper') else ''}, {way})"


counts = {"first": 0, "zoom": 0, "wrong": 0, "none": 0, "missing": 0}
# Per way: how the right origin was found at the failure that counted (first: the first failure's; zoom: the second's).
ways = {}
high_wrong = 0
print(f"| case | expected ({kernel}) | first failure | second failure | result |")
print("|---|---|---|---|---|")
for case, (sc, errno, want) in expect.items():
    got = failures[case]
    if len(got) < 2:
        result = "missing"
    elif right(got[0], want):
        result = "first"
    elif right(got[1], want):
        result = "zoom"
    elif got[1] or got[0]:
        result = "wrong"
    else:
        result = "none"
    counts[result] += 1
    if result in ("first", "zoom"):
        o = got[0] if result == "first" else got[1]
        way = o.get("found_by", "?") + (":" + o["zoomed_by"] if o.get("zoomed_by") else "")
        ways[way] = ways.get(way, 0) + 1
    for o in got[:2]:
        if o and not right(o, want) and o.get("confidence") == "high":
            high_wrong += 1
    cells = [show(o) for o in got[:2]] + ["(not seen)"] * (2 - len(got[:2]))
    print(f"| {case} ({sc} {errno}) | {want} | {cells[0]} | {cells[1]} | {result} |")
n = len(expect)
ok = counts["first"] + counts["zoom"]
print()
print(f"{n} cases: correct at first failure {counts['first']}, after zoom-in {counts['zoom']}, wrong {counts['wrong']}, "
      f"none {counts['none']}, not seen {counts['missing']}; correct after zoom-in {ok}/{n} ({100.0 * ok / n:.0f} %); "
      f"high confidence while wrong: {high_wrong}")
print("right origins by the way they were found: " + ", ".join(f"{w} {n}" for w, n in sorted(ways.items(), key=lambda x: -x[1])))
