#!/usr/bin/env python3
"""Compares strace's and whyfail's decoding of the same failing calls (bench/decoding/run).

Input: a directory with, per program NAME, NAME.strace (strace -f -Z -v -o) and NAME.whyfail.json
(whyfail --json -o). Both runs are of the same program with address-space randomisation off.

Calls are aligned per program in order of occurrence by (syscall name, errno), then within the gaps by name
alone (difflib), then each pair is
classified:
  identical       the argument lists are the same text
  equal           the same information in a different notation (numbers in another base, flags in
                  another order, spacing), or a documented deliberate difference (known-differences.tsv)
  better          whyfail shows strictly more: it decodes what strace leaves raw, or shows fields
                  strace does not, and agrees on everything both show
  worse           anything else: whyfail shows less, or shows something else (a differing value counts
                  as worse unless known-differences.tsv says why it is not)
  wrong_errno     the aligned call failed with another errno in whyfail's run
  missing         strace shows the failing call, whyfail does not
Calls only whyfail shows are counted (extra) but not classified.
"""
import argparse
import collections
import difflib
import json
import os
import re
import sys

CLASSES = ["identical", "equal", "better", "worse", "wrong_errno", "missing"]
GOOD = {"identical", "equal", "better"}

LINE = re.compile(r"^(?P<pid>\d+) +(?P<rest>.*)$")
CALL = re.compile(r"^(?P<name>[a-z_0-9]+)\((?P<args>.*)\) += (?P<ret>-1|\?) (?P<errno>E[A-Z0-9_]+) \(.*\)$")
UNFINISHED = re.compile(r"^(?P<name>[a-z_0-9]+)\((?P<args>.*) <unfinished \.\.\.>$")
RESUMED = re.compile(r"^<\.\.\. (?P<name>[a-z_0-9]+) resumed>(?P<args>.*)\) += (?P<ret>-1|\?) (?P<errno>E[A-Z0-9_]+) \(.*\)$")
# strace -Z sometimes ends an unfinished line on a line of its own, with neither pid nor "<... NAME resumed>"
# (siginfo: "rt_sigsuspend([], 8 <unfinished ...>" then ")   = ? ERESTARTNOHAND (...)"): the end of the call the
# last "<unfinished ...>" line began.
CONTINUED = re.compile(r"^\)(?P<args>) += (?P<ret>-1|\?) (?P<errno>E[A-Z0-9_]+) \(.*\)$")
SYSCALL_HEX = re.compile(r"^syscall_0x([0-9a-f]+)$")


def norm_name(n):
    m = SYSCALL_HEX.match(n)
    if m:
        return "syscall_%d" % int(m.group(1), 16)
    return n


def parse_strace(path):
    calls, pending, last_unfinished = [], {}, None
    if not os.path.exists(path):
        return calls
    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            m = LINE.match(line)
            pid, rest = (m.group("pid"), m.group("rest")) if m else ("0", line)
            if rest.startswith("---") or rest.startswith("+++"):
                continue
            u = UNFINISHED.match(rest)
            if u:
                pending[pid] = (u.group("name"), u.group("args"))
                last_unfinished = pid
                continue
            r = RESUMED.match(rest)
            if not m and r is None and last_unfinished in pending:
                r = CONTINUED.match(line)
                pid = last_unfinished if r else pid
            if r and pid in pending:
                name, head = pending.pop(pid)
                calls.append({"name": norm_name(name), "args": head + r.group("args"), "errno": r.group("errno"),
                              "pid": pid, "line": rest})
                continue
            c = CALL.match(rest)
            if c:
                calls.append({"name": norm_name(c.group("name")), "args": c.group("args"), "errno": c.group("errno"),
                              "pid": pid, "line": rest})
    return calls


def parse_whyfail(path):
    calls = []
    if not os.path.exists(path):
        return calls
    with open(path, errors="replace") as f:
        for line in f:
            try:
                o = json.loads(line)
            except ValueError:
                continue
            if o.get("type") != "syscall" or not o.get("errno"):
                continue
            args = o.get("args") or []
            # strace shows what the kernel returned at exit (`= ? ERESTARTNOHAND`); whyfail's JSON has it in
            # kernel_errno when signal delivery turned it into what the program saw (errno: EINTR).
            calls.append({"name": norm_name(o["syscall"]), "args": ", ".join(args),
                          "errno": o.get("kernel_errno") or o["errno"], "seen": o["errno"],
                          "pid": str(o.get("pid")), "tid": str(o.get("tid")), "ts": o.get("ts_ns", 0), "truncated": o.get("capture_truncated", False),
                          "line": "%s(%s) = %s-1 %s" % (o["syscall"], ", ".join(args),
                                                         "? %s => " % o["kernel_errno"] if o.get("kernel_errno") else "",
                                                         o["errno"])})
    calls.sort(key=lambda c: c["ts"])
    return calls


# ---- splitting strace notation ------------------------------------------------------------------

OPEN = {"{": "}", "[": "]", "(": ")"}


def split_top(s, sep=","):
    """Splits at top-level separators, outside quotes, brackets and comments."""
    out, depth, cur, i, n = [], 0, [], 0, len(s)
    while i < n:
        ch = s[i]
        if ch == '"':
            j = i + 1
            while j < n and s[j] != '"':
                j += 2 if s[j] == "\\" else 1
            cur.append(s[i:j + 1])
            i = j + 1
            continue
        if s.startswith("/*", i):
            j = s.find("*/", i + 2)
            j = n if j < 0 else j + 2
            cur.append(s[i:j])
            i = j
            continue
        if ch in OPEN:
            depth += 1
        elif ch in "}])":
            depth -= 1
        if depth == 0 and s.startswith(sep, i):
            out.append("".join(cur).strip())
            cur = []
            i += len(sep)
            continue
        cur.append(ch)
        i += 1
    last = "".join(cur).strip()
    if last or out:
        out.append(last)
    return out


COMMENT = re.compile(r"\s*/\*.*?\*/")
INT = re.compile(r"^-?(0x[0-9a-f]+|0[0-7]*|[1-9][0-9]*)$")
PTR = re.compile(r"^0x[0-9a-f]+$")


# strace's "no name for this value" comments (0x1 /* AT_??? */, 0x8 /* ?_OK */): they say only that the number
# before them has no name in the table, which a bare number in that place says too.
UNKNOWN_COMMENT = re.compile(r"\s*/\*\s*[A-Za-z0-9_]*\?[A-Za-z0-9_?]*\s*\*/")
NAMES = re.compile(r"^[A-Z][A-Z0-9_]*(\|[A-Z][A-Z0-9_]*)*$")
# whyfail's "72 /* PERF_ATTR_SIZE_VER1 */": a number followed by its name says what strace's bare name says
# (compared as the name; comments are otherwise dropped inside structures, which would leave the bare number)
NUMBER_NAMED = re.compile(r"(?<![\w.])-?(?:0x[0-9a-f]+|[0-9]+) /\* ([A-Z][A-Z0-9_]*) \*/")


def strip_comments(s):
    return COMMENT.sub("", s).strip()


def strip_unknown(s):
    return UNKNOWN_COMMENT.sub("", s).strip()


def int_value(s):
    if not INT.match(s):
        return None
    neg = s.startswith("-")
    t = s[1:] if neg else s
    v = int(t, 16) if t.startswith("0x") else int(t, 8) if len(t) > 1 and t.startswith("0") else int(t)
    return -v if neg else v


def squash(s):
    return re.sub(r"\s+", "", s)


def is_pointer(s):
    return bool(PTR.match(s)) and int(s, 16) >= 0x1000


def fields(body):
    """The items of a {...} or [...] body: list of (key or None, value)."""
    items = []
    for it in split_top(body):
        m = re.match(r"^([a-z_][a-z_0-9.\[\]]*)=(.*)$", it, re.S)
        items.append((m.group(1), m.group(2)) if m else (None, it))
    return items


def combine(results):
    rs = set(results)
    if "worse" in rs:
        return "worse"
    if "better" in rs:
        return "better"
    if "equal" in rs:
        return "equal"
    return "identical"


def compare_value(a, b):
    """a: strace's text, b: whyfail's; returns identical/equal/better/worse."""
    if a == b:
        return "identical"
    if strip_unknown(a) == strip_unknown(b):
        return "equal"
    # strace has no name for the value, whyfail has one (a constant newer than strace 6.1's tables)
    if UNKNOWN_COMMENT.search(a) and int_value(strip_unknown(a)) is not None and NAMES.match(b):
        return "better"
    sa, sb = squash(strip_comments(a)), squash(strip_comments(b))
    if sa == sb:
        # only comments or spacing differ: a comment whyfail lacks is strace's extra information
        ca, cb = COMMENT.findall(strip_unknown(a)), COMMENT.findall(strip_unknown(b))
        if ca and not cb:
            return "worse"
        if cb and not ca:
            return "better"
        return "equal"
    # in/out notation: "before => after"
    pa, pb = split_top(a, " => "), split_top(b, " => ")
    if len(pa) == 2 and len(pb) == 2:
        return combine([compare_value(pa[0], pb[0]), compare_value(pa[1], pb[1])])
    if len(pa) == 2 and len(pb) == 1:
        # whyfail shows one side only: as good only if it equals strace's "before" and strace's after adds nothing new
        return "worse"
    if len(pb) == 2 and len(pa) == 1:
        return "better" if compare_value(pa[0], pb[0]) in GOOD or compare_value(pa[0], pb[1]) in GOOD else "worse"
    a, b = strip_comments(a), strip_comments(b)
    if is_pointer(a) and is_pointer(b):
        # both left it an address: the same (no) decoding; stack addresses differ by the tracer's own
        # start-up (auxiliary vector, program path), which setarch -R cannot equalise
        return "equal"
    va, vb = int_value(a), int_value(b)
    if va is not None and vb is not None:
        return "equal" if va == vb else "worse"
    if is_pointer(b) and not is_pointer(a) and a != "NULL":
        return "worse"
    if is_pointer(a) and not is_pointer(b) and b != "NULL":
        return "better"
    # flag sets in another order
    if "|" in a or "|" in b:
        fa, fb = split_top(a, "|"), split_top(b, "|")
        if len(fa) > 1 or len(fb) > 1:
            if set(map(squash, fa)) == set(map(squash, fb)):
                return "equal"
    for op, cl in (("{", "}"), ("[", "]")):
        if a.startswith(op) and a.endswith(cl) and b.startswith(op) and b.endswith(cl):
            return compare_items(fields(a[1:-1]), fields(b[1:-1]))
    return "worse"


def compare_items(fa, fb):
    """Struct fields by name (positional items by position); '...' marks a cut."""
    ka = {k: v for k, v in fa if k}
    kb = {k: v for k, v in fb if k}
    pa = [v for k, v in fa if not k]
    pb = [v for k, v in fb if not k]
    res = []
    for k, v in ka.items():
        if k not in kb:
            res.append("worse")
        else:
            res.append(compare_value(v, kb[k]))
    for k in kb:
        if k not in ka:
            res.append("better")
    ea = pa[:-1] if pa and pa[-1] == "..." else pa
    eb = pb[:-1] if pb and pb[-1] == "..." else pb
    for x, y in zip(ea, eb):
        res.append(compare_value(x, y))
    if len(ea) > len(eb):
        res.append("worse")
    elif len(eb) > len(ea):
        res.append("better")
    return combine(res) if res else "identical"


def align(sc, wc):
    """Pairs strace's calls with whyfail's: first by (name, errno), so that a call that fails in one run
    only (the environment differs: whyfail's own BPF programs exist, ptrace is not attached) does not shift
    every later pair of the same name; then, inside each gap, by name alone (such pairs are wrong_errno).
    Returns [(strace index, whyfail index or None)] and the number of whyfail calls left unpaired."""
    pairs, extra = [], 0
    sm = difflib.SequenceMatcher(None, [(c["name"], c["errno"]) for c in sc], [(c["name"], c["errno"]) for c in wc],
                                 autojunk=False)
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag == "equal":
            pairs.extend(zip(range(i1, i2), range(j1, j2)))
            continue
        inner = difflib.SequenceMatcher(None, [c["name"] for c in sc[i1:i2]], [c["name"] for c in wc[j1:j2]],
                                        autojunk=False)
        for t, a1, a2, b1, b2 in inner.get_opcodes():
            if t == "equal":
                pairs.extend((i1 + a, j1 + b) for a, b in zip(range(a1, a2), range(b1, b2)))
            else:
                pairs.extend((i1 + a, None) for a in range(a1, a2))
                extra += b2 - b1
    pairs.sort()
    return pairs, extra


class Known:
    """known-differences.tsv: syscall, strace regex, whyfail regex, class, reason (per argument)."""

    def __init__(self, path):
        self.rules = []
        with open(path) as f:
            for ln, line in enumerate(f, 1):
                if not line.strip() or line.startswith("#"):
                    continue
                parts = line.rstrip("\n").split("\t")
                if len(parts) != 5 or parts[3] not in ("equal", "better"):
                    sys.exit("%s:%d: want 5 tab-separated fields, class equal|better" % (path, ln))
                call, ra, rb, cls, _ = parts
                self.rules.append((call, re.compile(ra + r"\Z", re.S), re.compile(rb + r"\Z", re.S), cls))
        self.used = collections.Counter()

    def match(self, call, a, b):
        for i, (c, ra, rb, cls) in enumerate(self.rules):
            if c in ("*", call) and ra.match(a) and rb.match(b):
                self.used[i] += 1
                return cls
        return None


# The fresh working directory bench/decoding/run makes for each run (mktemp -d /tmp/whyfail-decoding-w.XXXXXX): a
# program that prints its absolute path shows a different directory name under each tracer, the same file otherwise.
RUN_DIR = re.compile(r"/tmp/whyfail-decoding-w\.[A-Za-z0-9]{6}(?=/|\"|$)")


TIMESPEC = re.compile(r"^\{tv_sec=(-?\d+), tv_nsec=(\d+)\}$")


def clock_reading(name, i, s_args, x, y):
    """Timespecs that are the clock read in each run, not something the program chose: the time left of a sleep a
    signal interrupted (the kernel writes it at ERESTART_RESTARTBLOCK; nanosleep's 2nd, clock_nanosleep's 4th
    argument) and clock_nanosleep's TIMER_ABSTIME deadline (the program's clock_gettime plus a delay). The two runs
    read the clock at different moments: equal when both show such a timespec, the deadlines within a minute."""
    a, b = TIMESPEC.match(x), TIMESPEC.match(y)
    if not a or not b:
        return False
    if (name, i) in (("nanosleep", 1), ("clock_nanosleep", 3)):
        return True
    if name == "clock_nanosleep" and i == 2 and len(s_args) > 1 and s_args[1] == "TIMER_ABSTIME":
        ta = int(a.group(1)) + int(a.group(2)) / 1e9
        tb = int(b.group(1)) + int(b.group(2)) / 1e9
        return abs(ta - tb) < 60
    return False


def own_pid_fields(args, pids):
    """A structure's pid field (si_pid=…) holding exactly the pid of the task this side traced: <PID>."""
    return re.sub(r"(?<=pid=)(-?\d+)\b", lambda m: "<PID>" if m.group(1) in pids else m.group(1), args)
def own_pid(v, pids):
    """v with every structure field whose value is one of pids (NAME=PID) written NAME=<pid>."""
    return re.sub(r"(?<=[a-z_]=)(%s)(?=[,}\]])" % "|".join(re.escape(p) for p in pids), "<pid>", v)


def classify(s, w, known):
    if s["errno"] != w["errno"]:
        return "wrong_errno"
    if RUN_DIR.search(s["args"]) and RUN_DIR.search(w["args"]):
        s, w = dict(s, args=RUN_DIR.sub("/tmp/whyfail-decoding-w.RUN", s["args"])), \
            dict(w, args=RUN_DIR.sub("/tmp/whyfail-decoding-w.RUN", w["args"]))
    if s["pid"] != "0" and "pid=" in s["args"] and "pid=" in w["args"]:
        s, w = dict(s, args=own_pid_fields(s["args"], {s["pid"]})), \
            dict(w, args=own_pid_fields(w["args"], {w["pid"], w.get("tid")}))
    if s["args"] == w["args"]:
        return "identical"
    # whyfail's "104 /* PERF_ATTR_SIZE_VER4 */" is compared as the name; the same rewrite on strace's side keeps a value
    # both show alike ("0x5 /* HW_BREAKPOINT_INVALID */") alike.
    if NUMBER_NAMED.sub(r"\1", w["args"]) == NUMBER_NAMED.sub(r"\1", s["args"]):
        return "equal"
    aa, ab = split_top(s["args"]), split_top(NUMBER_NAMED.sub(r"\1", w["args"]))
    res = []
    for i in range(max(len(aa), len(ab))):
        x = aa[i] if i < len(aa) else ""
        y = ab[i] if i < len(ab) else ""
        r = compare_value(x, y) if x and y else ("identical" if x == y else "worse")
        if r == "worse" and x == s["pid"] != "0" and y in (w["pid"], w.get("tid")):
            # The traced program's own process id (getpid(), passed to tgkill, sched_*, move_pages ...): a different
            # process in each of the two runs. Equal only when each side shows exactly the pid of the task it traced.
            r = "equal"
        if r == "worse" and clock_reading(s["name"], i, aa, x, y):
            r = "equal"
        if r == "worse" and s["pid"] != "0":
            # The same inside a structure: a field holding each side's own pid (sockaddr_nl's nl_pid,
            # blk_user_trace_setup's pid), the rest identical.
            xs = own_pid(x, [s["pid"]])
            if xs != x and xs == own_pid(y, [p for p in (w["pid"], w.get("tid")) if p and p != "None"]):
                r = "equal"
        if r == "worse":
            r = known.match(s["name"], x, y) or r
        res.append(r)
    return combine(res)


def sigreturn_after_interrupt(sc, wc, paired, i):
    """strace's `rt_sigreturn({mask=[...]}) = -1 EINTR` right after a call a signal interrupted is not a failure of
    rt_sigreturn: the handler returned and rt_sigreturn restored the interrupted call's registers, its result (EINTR)
    included. whyfail does not report that exit (the BPF side skips it: orig_ax is -1 there) and shows the result on
    the interrupted call instead (`= ? ERESTARTNOHAND (...) => -1 EINTR`). Excused only when strace's previous failing
    call of the same pid ended in ERESTART* and whyfail shows that call with the very result rt_sigreturn returned."""
    s = sc[i]
    if s["name"] != "rt_sigreturn":
        return False
    prev = next((k for k in range(i - 1, -1, -1) if sc[k]["pid"] == s["pid"]), None)
    if prev is None or not sc[prev]["errno"].startswith("ERESTART") or paired.get(prev) is None:
        return False
    w = wc[paired[prev]]
    return w["errno"] == sc[prev]["errno"] and w["seen"] == s["errno"]


def families(folder):
    fam = {}
    for fn in sorted(os.listdir(folder)):
        if not fn.endswith(".cs"):
            continue
        text = open(os.path.join(folder, fn)).read()
        for names in re.findall(r'r\.(?:Add|Capture)\(\s*"([^"]+)"', text):
            for n in names.split():
                fam.setdefault(n, fn[:-3].lower())
    return fam


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--known", required=True)
    ap.add_argument("--families", required=True)
    ap.add_argument("--markdown")
    ap.add_argument("--details", action="store_true")
    o = ap.parse_args()
    known = Known(o.known)
    fam = families(o.families)

    per_family = collections.defaultdict(collections.Counter)
    per_program = {}
    extra = excused = 0
    details = []
    programs = sorted(f[:-len(".strace")] for f in os.listdir(o.dir) if f.endswith(".strace"))
    for prog in programs:
        sc = parse_strace(os.path.join(o.dir, prog + ".strace"))
        wc = parse_whyfail(os.path.join(o.dir, prog + ".whyfail.json"))
        cnt = collections.Counter()
        pairs, n_extra = align(sc, wc)
        extra += n_extra
        paired = dict(pairs)
        for i, j in pairs:
            s = sc[i]
            cls = "missing" if j is None else classify(s, wc[j], known)
            if cls == "missing" and sigreturn_after_interrupt(sc, wc, paired, i):
                cls = "equal"
                excused += 1
            cnt[cls] += 1
            per_family[fam.get(s["name"], "(default)")][cls] += 1
            if o.details and cls != "identical":
                details.append((prog, cls, s["line"], wc[j]["line"] if j is not None else
                                "- (its result is on the interrupted call)" if cls == "equal" else "-"))
        per_program[prog] = cnt

    total = collections.Counter()
    for c in per_family.values():
        total.update(c)

    def row(name, c):
        n = sum(c.values())
        good = sum(c[k] for k in GOOD)
        return [name, str(n)] + [str(c[k]) for k in CLASSES] + ["%.1f" % (100.0 * good / n if n else 0)]

    head = ["family", "calls"] + CLASSES + ["% as good"]
    rows = [row(f, per_family[f]) for f in sorted(per_family, key=lambda f: -sum(per_family[f].values()))]
    rows.append(row("all", total))
    progs = [p for p in per_program if sum(per_program[p].values())]
    avg = sum(100.0 * sum(per_program[p][k] for k in GOOD) / sum(per_program[p].values()) for p in progs) / max(len(progs), 1)
    at_goal = sum(1 for p in progs if sum(per_program[p][k] for k in GOOD) >= 0.97 * sum(per_program[p].values()))

    if o.details:
        for prog, cls, sl, wl in details:
            try:
                print("%s [%s]\n  strace:  %s\n  whyfail: %s" % (prog, cls, sl, wl))
            except BrokenPipeError:
                sys.exit(0)
        print()
        for p in sorted(progs, key=lambda p: sum(per_program[p][k] for k in GOOD) / sum(per_program[p].values())):
            c = per_program[p]
            print("%-32s %5d calls %6.1f%% %s" % (p, sum(c.values()), 100.0 * sum(c[k] for k in GOOD) / sum(c.values()),
                                                 " ".join("%s=%d" % (k, c[k]) for k in CLASSES if c[k])))
        print()
    widths = [max(len(r[i]) for r in rows + [head]) for i in range(len(head))]
    for r in [head] + rows:
        print("  ".join(x.ljust(widths[i]) if i == 0 else x.rjust(widths[i]) for i, x in enumerate(r)))
    summary = ("%d programs with failing calls (%d run); per program, %.1f %% as good on average, %d at >= 97 %%; "
               "%d calls only whyfail shows" % (len(progs), len(programs), avg, at_goal, extra))
    print(summary)
    if excused:
        print("%d rt_sigreturn lines after an interrupted call counted as equal (whyfail shows their result on that call)"
              % excused)
    unused = [i for i in range(len(known.rules)) if not known.used[i]]
    if unused:
        print("known differences never used: lines %s" % ", ".join(str(i + 1) for i in unused))
    if o.markdown:
        with open(o.markdown, "w") as f:
            f.write("| " + " | ".join(head) + " |\n|" + "---|" * len(head) + "\n")
            for r in rows:
                f.write("| " + " | ".join(r) + " |\n")
            f.write("\n" + summary + ".\n")


if __name__ == "__main__":
    main()
