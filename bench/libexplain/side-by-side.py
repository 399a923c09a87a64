#!/usr/bin/env python3
"""Side-by-side of whyfail and libexplain from bench/libexplain/run's results: side-by-side.py OUT cases.tsv.
Per case, the failing call whyfail saw (the first of the case's syscall and errno that is not routine, else the
first), its explanation (rule, why, fix) and libexplain's text for the same call and state."""
import json, os, sys

out, cases = sys.argv[1], sys.argv[2]
def one_line(s): return " ".join(s.split())
print("# whyfail and libexplain, side by side\n")
print("Written by `bench/libexplain/run` (do not edit; scores by hand are in scores.tsv). Per case: the command, "
      "the failing call whyfail reported, its explanation, and libexplain's for the same call made with the same "
      "user, descriptors, limits, signal dispositions and working directory.\n")
for line in open(cases):
    if line.startswith("#") or not line.strip(): continue
    cid, errno, call, user, cmd, ex = line.rstrip("\n").split("\t")
    if not os.path.exists(f"{out}/{cid}.case"): continue
    names = call.split("|")
    evs = []
    try:
        for l in open(f"{out}/{cid}.jsonl"):
            o = json.loads(l)
            if o.get("type") == "syscall" and o.get("errno") == errno and o.get("syscall") in names: evs.append(o)
    except FileNotFoundError: pass
    ev = next((e for e in evs if not e.get("routine")), evs[0] if evs else None)
    print(f"## {cid}\n\n{errno}, as {user}: `{cmd}`\n")
    if ev is None:
        print(f"- **whyfail**: no failing {call} with {errno} was reported")
    else:
        print(f"- **whyfail**: `{ev['syscall']}({', '.join(ev['args'])}) = -1 {errno}`" +
              (" (routine)" if ev.get("routine") else ""))
        for x in ev["explanation"]:
            print(f"  - why [{x['rule']}]: {one_line(x['text'])}")
            if x.get("fix"): print(f"  - fix: {one_line(x['fix'])}")
        if not ev["explanation"]: print("  - (no explanation)")
    text = one_line(open(f"{out}/{cid}.explain").read()) if os.path.exists(f"{out}/{cid}.explain") else ""
    print(f"- **libexplain** (`{ex}`): {text or '(nothing)'}\n")
