using System.Diagnostics;
using Whyfail.Events;

namespace Whyfail.Analysis.Verdict;

/// <summary>
/// Holds each failure until it can be judged, then hands it on in arrival order: linked to a message the
/// program printed, routine (a pattern in <see cref="RoutinePatterns"/>), or neither; when a process ends
/// badly, the failures that explain it (culprits). Decisions are made when the process ends or
/// <see cref="DecisionDelayMs"/> after the failure, whichever comes first, so output still streams; a failure its
/// thread repeats at once is decided when the repeat arrives (<see cref="JudgedAtRepeat"/>). The wait is over when what
/// came in the kernel in that second has been read (a later event's time), or, once the reader has caught up with the
/// kernel, after that long on the reader's clock: a reader held up (its output blocked, a collection) does not judge a
/// failure before it has read what followed it.
/// </summary>
/// <param name="launcherPid">whyfail's launcher when it started the command (one verdict, for the command); null with -p and
/// --system (a verdict for each traced process that ends badly).</param>
/// <param name="maxHeld">Failures held at most (<see cref="MaxHeld"/>, or <see cref="MaxHeldService"/> for --system); beyond, the oldest
/// is judged before its time (counted in <see cref="JudgedEarly"/>).</param>
public sealed class FailureTracker(Action<SyscallEvent> release, Action<VerdictReport> verdict, int? launcherPid, int maxHeld = FailureTracker.MaxHeld)
{
    private readonly bool verdictPerProcess = launcherPid is null;

    /// <summary>How long a failure waits for what follows it (a message, a success elsewhere, the exit).</summary>
    public const int DecisionDelayMs = 1000;
    private const ulong DecisionDelayNs = DecisionDelayMs * 1_000_000UL;

    /// <summary>The latest kernel time read (a call's, an exit's, a message's).</summary>
    private ulong _latestTs;

    private void Saw(ulong ts)
    {
        if (ts > _latestTs && ts != ulong.MaxValue) _latestTs = ts;
    }

    /// <summary>Held entries beyond this are judged at once (a flood of failures must not fill memory).</summary>
    public const int MaxHeld = 20000;
    /// <summary>
    /// The same for --system, which runs for days and answers for no command of its own: a flood of 5,000 failures a
    /// second holds ~1,000 for a fifth of a second instead of 5,000 for a second (bench/soak: the service's memory).
    /// </summary>
    public const int MaxHeldService = 1000;

    /// <summary>
    /// Failures handed on before <see cref="DecisionDelayMs"/> because more than the limit were waiting: a message or an
    /// exit that came later is not linked to them (the summary's "judged_early").
    /// </summary>
    public long JudgedEarly { get; private set; }

    /// <summary>
    /// Failures judged when their thread's next call arrived and was the same failure again (the same call, arguments, argument
    /// memory, errno, subject and context, nothing else reported in between; <see cref="Tracked.Repeated"/>), instead of after
    /// <see cref="DecisionDelayMs"/>: what could still change a failure's line (a message naming it, the name found elsewhere)
    /// goes to the latest failure of such a run, which still waits. A flood of one failure then holds a failure or two per
    /// thread instead of up to <see cref="MaxHeld"/>, which the collector copied from generation to generation (issue 16.3:
    /// half of the reader's CPU at two failing threads; bench/README "A run of one failure, session 23").
    /// </summary>
    public long JudgedAtRepeat { get; private set; }
    /// <summary>Failures of one thread still watching for what the thread does next.</summary>
    private const int OpenPerThread = 32;
    /// <summary>Culprits named per process.</summary>
    public const int MaxCulprits = 3;
    /// <summary>
    /// Processes that ended are remembered (compacted: exit, culprits, counts) for their parents' verdicts; beyond
    /// this many the oldest are forgotten, their counts passed to their parent (a --system session sees endless
    /// processes come and go).
    /// </summary>
    public const int MaxEnded = 4096;

    /// <summary>What waits in the queue: a failure to judge, a success to show, or a verdict to write (one of the three; a struct,
    /// so that holding a failure costs no object of its own).</summary>
    private readonly record struct Entry(Tracked? Failure, SyscallEvent? Show, ProcessTrack? Verdict);

    private readonly Queue<Entry> _queue = new();
    private readonly Dictionary<int, ProcessTrack> _procs = [];
    private readonly Dictionary<int, List<Tracked>> _openByTid = [];
    private readonly Queue<ProcessTrack> _ended = new();
    private readonly MessageLines _lines = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    private ProcessTrack Proc(int pid)
    {
        if (!_procs.TryGetValue(pid, out var p)) _procs[pid] = p = new ProcessTrack(pid);
        return p;
    }

    /// <summary>A captured call: a failure to judge, or a success (shown when <paramref name="show"/>, else only observed).</summary>
    public void Add(SyscallEvent ev, bool show)
    {
        var p = Proc(ev.Pid);
        if (p.Exit is { } ended && ev.TimestampNs > ended.TimestampNs)
            _procs[ev.Pid] = p = new ProcessTrack(ev.Pid); // the pid was reused by a new process
        p.Comm = ev.Comm;
        long now = _clock.ElapsedMilliseconds; // read once: a flood adds hundreds of thousands of calls a second
        p.LastSeenMs = now;
        Saw(ev.TimestampNs);
        _lines.Busy(ev.Tid, ev.TimestampNs, p.LastSeenMs);
        Tracked? previous = null;
        if (_openByTid.TryGetValue(ev.Tid, out var open) && ev.Failed && open.Count > 0 && ReferenceEquals(ev.Comm, open[^1].Event.Comm))
        {
            // A failure under the name of the thread's last failure (a flood: the capture shares the name): only that one
            // learns here that the thread carried on; the older ones learnt it, and the name, at the calls after them.
            previous = open[^1];
            previous.ThreadCarriedOn = true;
        }
        else if (open is not null)
        {
            foreach (var t in open)
            {
                t.ThreadCarriedOn = true;
                if (!ev.Failed && t.SuccessesAfter.Count < Tracked.KeptSuccesses) t.AddSuccess(ev);
                NoteComm(t, ev.Comm);
            }
            if (!ev.Failed) open.RemoveAll(t => t.SuccessesAfter.Count >= Tracked.KeptSuccesses); // a failure adds to none
        }
        if (!ev.Failed)
        {
            p.AddSuccess(ev, FailureSubject.Of(ev));
            if (show) _queue.Enqueue(new Entry(null, ev, null));
        }
        else
        {
            var t = new Tracked(ev, now);
            if (ev.ErrorAsData) t.Subject = FailureSubject.OfPeer(ev) ?? t.Subject; // the peer the analysis found (ConnectedTo)
            if (previous is { Released: false, Repeated: false } && IsRepeat(previous, t))
            {
                previous.Repeated = true;
                JudgedAtRepeat++;
            }
            p.AddFailure(t);
            if (open is null) _openByTid[ev.Tid] = open = [];
            open.Add(t);
            if (open.Count > OpenPerThread) open.RemoveAt(0);
            _queue.Enqueue(new Entry(t, null, null));
        }
        // Judged here too, not only after a batch of events: a batch can take seconds to analyse (a flood),
        // and what is due must reach the output meanwhile (a full disk is noticed while the command runs). In the middle of
        // a batch only the kernel's time ends a wait: what follows a failure may be in the rest of the batch.
        if (_queue.Count > maxHeld || HeadDue(now)) Tick(false, now, readerCaughtUp: false);
    }

    /// <summary>The oldest held entry can be handed on now (cheap: looks at the head only).</summary>
    private bool HeadDue(long now) => _queue.TryPeek(out var head) && (head.Failure is not { } f || Due(f, now, readerCaughtUp: false));

    /// <summary>
    /// <paramref name="f"/>'s wait is over: its thread repeated it, or an event a second later in the kernel's time was read,
    /// or (<paramref name="readerCaughtUp"/>: nothing is waiting in the ring buffer) a second passed since it was read.
    /// </summary>
    private bool Due(Tracked f, long now, bool readerCaughtUp) =>
        f.Repeated || _latestTs >= f.Event.TimestampNs + DecisionDelayNs || (readerCaughtUp && now - f.ArrivedMs >= DecisionDelayMs);

    /// <summary>
    /// <paramref name="next"/>, its thread's next reported call, is <paramref name="previous"/> again: the same call, errno,
    /// subject, decoded arguments, argument memory and context (the capture and decoding share a repeat's objects, so most of
    /// this compares references; the raw values are not compared: a pointer to another copy of the same path, or a register
    /// the call does not read, changes nothing a pattern reads), and nothing happened to <paramref name="previous"/> since that
    /// a pattern or the verdict reads (no success after it, no message linked to it, no evidence on either). Its judgement is
    /// then the one it would get after its wait, unless a message or a success elsewhere comes later: those find the latest
    /// failure of the run, which still waits.
    /// </summary>
    private static bool IsRepeat(Tracked previous, Tracked next)
    {
        var (a, b) = (previous.Event, next.Event);
        return previous.SuccessesAfter.Count == 0 && !previous.BecameSearchedProgram && previous.LinkScore == 0 &&
            a.Consequence is null && !a.HasEvidence && !b.HasEvidence && a.Pid == b.Pid && a.Ret == b.Ret && a.Nr == b.Nr &&
            ReferenceEquals(a.Context, b.Context) && ReferenceEquals(a.Captured, b.Captured) &&
            string.Equals(a.Syscall, b.Syscall, StringComparison.Ordinal) && previous.Subject.Equals(next.Subject) &&
            SameStrings(a.DecodedArgs, b.DecodedArgs);
    }

    private static bool SameStrings(IReadOnlyList<string> a, IReadOnlyList<string> b)
    {
        if (ReferenceEquals(a, b)) return true;
        if (a.Count != b.Count) return false;
        for (int i = 0; i < a.Count; i++)
            if (!string.Equals(a[i], b[i], StringComparison.Ordinal)) return false;
        return true;
    }

    /// <summary>A failed exec's thread now runs under the name it was looking for: that search succeeded.</summary>
    private static void NoteComm(Tracked t, string comm)
    {
        // The same comm (most calls: one string per process, shared by the capture) first: nothing to look at.
        if (ReferenceEquals(comm, t.Event.Comm) || t.Subject.Name is not { } name || !t.Event.Syscall.StartsWith("execve", StringComparison.Ordinal)) return;
        if (comm != t.Event.Comm && comm == (name.Length > 15 ? name[..15] : name)) t.BecameSearchedProgram = true;
    }

    /// <summary>Something a traced task wrote to standard error (or output): linked to the failure it names.</summary>
    public void Message(MessageWrite m)
    {
        Saw(m.TimestampNs);
        foreach (var (line, ts, w) in _lines.Add(m, _clock.ElapsedMilliseconds)) Link(line, ts, w);
    }

    private void Link(string line, ulong ts, MessageWrite w)
    {
        if (!_procs.TryGetValue(w.Pid, out var p)) return;
        Tracked? best = null;
        int bestScore = 0;
        int looked = 0;
        for (int i = p.Failures.Count - 1; i >= 0 && looked < 256; i--, looked++)
        {
            var t = p.Failures[i];
            if (t.Event.TimestampNs > ts) continue;
            int score = MessageLink.Score(t, line, p);
            if (score > bestScore) { best = t; bestScore = score; }
        }
        if (best is null || bestScore < MessageLink.Threshold || bestScore <= best.LinkScore) return;
        best.LinkScore = bestScore;
        var c = best.Event.Consequence ??= new Consequence();
        c.Message = line;
        c.MessageDelayNs = ts > best.Event.TimestampNs ? ts - best.Event.TimestampNs : 0;
        c.MessageBy = w.Comm;
    }

    /// <summary>A traced thread group ended: its held failures can be judged now, and a bad end gets its culprits.</summary>
    public void Exit(ProcessExit x)
    {
        var p = Proc(x.Pid);
        Saw(x.TimestampNs);
        p.Exit = x;
        if (p.Comm.Length == 0) p.Comm = x.Comm;
        foreach (var t in p.Failures)
            if (!t.Released)
            {
                NoteComm(t, x.Comm);
                if (!x.Failed) t.ThreadCarriedOn = true; // what it checked did not stop it from ending well
            }
        foreach (var (line, ts, w) in _lines.Flush(_clock.ElapsedMilliseconds, x.Pid)) Link(line, ts, w);
        if (x.Failed) ChooseCulprits(p);
        if (x.Failed && x.ParentPid != p.Pid && p.Culprits.Count > 0)
        {
            var parent = Proc(x.ParentPid);
            parent.ChildCulprits.AddRange(p.Culprits.Select(t => (p, t)));
            if (parent.ChildCulprits.Count > 4 * MaxCulprits)
                parent.ChildCulprits.RemoveRange(0, parent.ChildCulprits.Count - MaxCulprits);
        }
        if (verdictPerProcess && x.Failed) _queue.Enqueue(new Entry(null, null, p));
        ForgetThreads(p);
        _ended.Enqueue(p);
        Tick(false, _clock.ElapsedMilliseconds, readerCaughtUp: false);
        if (p.Pending == 0 && !p.Compacted) p.Compact();
        Forget();
    }

    /// <summary>Beyond <see cref="MaxEnded"/> ended processes, the oldest judged ones are forgotten.</summary>
    private void Forget()
    {
        while (_ended.Count > MaxEnded && _ended.TryPeek(out var old) && old.Pending == 0)
        {
            _ended.Dequeue();
            if (!_procs.TryGetValue(old.Pid, out var now) || now != old) continue; // the pid was reused since
            _procs.Remove(old.Pid);
            if (old.Exit is { } x && x.ParentPid != old.Pid && _procs.TryGetValue(x.ParentPid, out var parent))
            {
                parent.InheritedRoutine += old.Routine + old.InheritedRoutine;
                parent.InheritedNotRoutine += old.NotRoutine + old.InheritedNotRoutine;
            }
        }
    }

    /// <summary>
    /// The failures that explain a bad end, in order of preference: the process's own failures that its
    /// messages named; else the culprits of its children that ended badly; else its last failure no pattern
    /// explains; else its last one that only has the shape of a routine failure.
    /// </summary>
    private void ChooseCulprits(ProcessTrack p)
    {
        var x = p.Exit!;
        p.Culprits.Clear();
        p.CulpritVia.Clear();
        // The failures of the program that ended. A failure the ending thread made under another name ran in an earlier
        // program image (an exec came between: a shim or wrapper script that then ran the real program, as pyenv's
        // python3 is bash until it execs python); that image carried on into the next, so neither its failures nor the
        // children it had waited for ended the process. Other threads may have names of their own: theirs count.
        ulong earlierImageUntil = 0;
        var own = new List<Tracked>();
        foreach (var f in p.Failures)
        {
            if (f.Event.TimestampNs > x.TimestampNs) continue;
            if (!EarlierImage(f)) own.Add(f);
            else earlierImageUntil = Math.Max(earlierImageUntil, f.Event.TimestampNs);
        }
        // Messages of the program that ended first (a thread of its own may have another name).
        var linked = own.Where(f => f.Event.Consequence?.Message != null && f.Event.Comm == x.Comm).TakeLast(MaxCulprits).ToList();
        if (linked.Count == 0) linked = own.Where(f => f.Event.Consequence?.Message != null).TakeLast(MaxCulprits).ToList();
        if (linked.Count > 0)
            Mark(p, linked);
        else
        {
            var fromChildren = p.ChildCulprits.Where(ct => ct.Child.Exit is not { } ce || ce.TimestampNs > earlierImageUntil)
                .OrderBy(ct => ct.T.Event.TimestampNs).TakeLast(MaxCulprits).ToList();
            if (fromChildren.Count > 0)
                foreach (var (child, t) in fromChildren)
                {
                    // The child's bad end, which this process's wait reported: the link from its failure to the child's.
                    var ce = child.Exit!;
                    var via = new List<ChildEnd>(child.CulpritVia.GetValueOrDefault(t) ?? [])
                    {
                        new(child.Pid, ce.Comm.Length > 0 ? ce.Comm : child.Comm, p.Pid, x.Comm.Length > 0 ? x.Comm : p.Comm, ce.ExitStatus, ce.Signal),
                    };
                    p.Culprits.Add(t);
                    p.CulpritVia[t] = via;
                }
            else
            {
                Tracked? weak = null, plain = null;
                // A failure with only the shape of a routine one (an existence check that said no) explains the end only
                // as its thread's last failure: a thread that failed other calls after it carried on past it (python's
                // look for a user site-packages directory, long before the exception that ended it).
                var failedLater = new HashSet<int>();
                for (int i = own.Count - 1; i >= 0 && plain is null; i--)
                {
                    var (r, strong) = RoutinePatterns.Judge(own[i], p);
                    if (r is null) plain = own[i];
                    else if (!strong && !failedLater.Contains(own[i].Event.Tid)) weak ??= own[i];
                    failedLater.Add(own[i].Event.Tid);
                }
                if (plain is not null) Mark(p, [plain]);
                else if (weak is not null)
                {
                    // Only the shape of a routine failure: it explains the end of the process a verdict is about; a
                    // helper process's "no" (readlink of a non-link, test -e) stays routine, and its parent may still name it.
                    if (verdictPerProcess || x.ParentPid == launcherPid) Mark(p, [weak]);
                    else p.Culprits.Add(weak);
                }
            }
        }

        // Only against the kernel's exit record: a status from waitpid (no record: lost, or the command's own exec failed
        // in the launcher's child) carries a name whyfail gave it.
        bool EarlierImage(Tracked f) => x.TimestampNs != ulong.MaxValue && f.Event.Tid == x.Tid &&
            !string.Equals(f.Event.Comm, x.Comm, StringComparison.Ordinal);

        void Mark(ProcessTrack proc, List<Tracked> culprits)
        {
            foreach (var t in culprits)
            {
                var c = t.Event.Consequence ??= new Consequence();
                c.Exit = x.ExitStatus;
                c.Signal = x.Signal;
            }
            proc.Culprits.AddRange(culprits);
        }
    }

    /// <summary>How often, and after how long idle, processes whose end was not reported are looked for in /proc.</summary>
    public const int SweepMs = 1000;
    private long _sweptMs;

    /// <summary>
    /// --system reports the end of a process only when it ends badly (the kernel side sends no exit record for
    /// status 0, to keep a machine's every exit out of the ring buffer), and an exit record can be lost: a
    /// process idle for <see cref="SweepMs"/>, judged, and no longer in /proc has ended well, or its end is
    /// unknown. It is forgotten, so that a long session's memory stays bounded.
    /// </summary>
    private void SweepGone(long now)
    {
        if (!verdictPerProcess || now - _sweptMs < SweepMs) return;
        _sweptMs = now;
        List<ProcessTrack>? gone = null;
        foreach (var p in _procs.Values)
            if (p.Exit is null && p.Pending == 0 && now - p.LastSeenMs >= SweepMs && !Directory.Exists($"/proc/{p.Pid}"))
                (gone ??= []).Add(p);
        if (gone is null) return;
        foreach (var p in gone)
        {
            _procs.Remove(p.Pid);
            ForgetThreads(p);
        }
    }

    /// <summary>The threads of an ended process no longer watch for what follows their failures.</summary>
    private void ForgetThreads(ProcessTrack p)
    {
        foreach (var t in p.Failures) _openByTid.Remove(t.Event.Tid);
    }

    /// <summary>
    /// Judges and hands on what has waited long enough (all of it with <paramref name="force"/>). <paramref name="readerCaughtUp"/>:
    /// nothing waits in the ring buffer, so a failure that has waited a second on the reader's clock has nothing more to learn.
    /// </summary>
    public void Tick(bool force = false, bool readerCaughtUp = true) => Tick(force, _clock.ElapsedMilliseconds, readerCaughtUp);

    private void Tick(bool force, long now, bool readerCaughtUp)
    {
        SweepGone(now);
        if (_lines.Unfinished) foreach (var (line, ts, w) in _lines.Flush(now)) Link(line, ts, w);
        while (_queue.TryPeek(out var head))
        {
            if (head.Show is { } s)
                release(s);
            else if (head.Verdict is { } v)
                verdict(Report(v));
            else if (head.Failure is { } f)
            {
                var p = Proc(f.Event.Pid);
                if (!force && p.Exit is null && !Due(f, now, readerCaughtUp))
                {
                    if (_queue.Count <= maxHeld) return;
                    JudgedEarly++;
                }
                Judge(f, p);
            }
            _queue.Dequeue();
        }
    }

    private void Judge(Tracked t, ProcessTrack p)
    {
        var ev = t.Event;
        ev.Routine = ev.Consequence is null ? RoutinePatterns.JudgeRemembered(t, p) : null;
        if (ev.Routine is null) p.NotRoutine++; else p.Routine++;
        t.Released = true;
        p.Pending--;
        release(ev);
        ev.DropRaw(); // rendered: the history keeps what the verdict reads, not the failure's context
        if (p.Exit is not null && p.Pending == 0 && !p.Compacted) p.Compact();
    }

    /// <summary>Everything held is judged and handed on; then the verdict of the command whyfail started (if any).</summary>
    public void Finish(int exitCode)
    {
        foreach (var (line, ts, w) in _lines.Flush(long.MaxValue)) Link(line, ts, w);
        if (launcherPid is { } launcher)
        {
            // whyfail's launcher forks the command and passes on its status: the command is its child.
            int root = _procs.Values.Where(c => c.Exit?.ParentPid == launcher).OrderBy(c => c.Exit!.TimestampNs).Select(c => c.Pid).FirstOrDefault(launcher);
            // None: the command's own exec failed, in the launcher's child, which never became the command (so was never
            // traced, and sent no exit record); the launcher passed on 126 or 127. The verdict is that child's. (Any
            // other status: the command ran, and its exit record was lost; its failures are not guessed at.)
            var failedExec = root == launcher && exitCode is 126 or 127 ? FailedCommandExec(launcher) : null;
            if (failedExec is { } exec) root = exec.Event.Pid;
            var p = Proc(root);
            if (p.Exit is null && exitCode != 0)
            {
                // No exit record (lost, or the kernel sent none): the status from waitpid.
                p.Exit = new ProcessExit(ulong.MaxValue, root, root, failedExec != null ? launcher : 0,
                    exitCode > 128 ? exitCode - 128 : exitCode << 8, failedExec?.Subject.Name ?? p.Comm);
                ChooseCulprits(p);
            }
            Tick(force: true);
            verdict(Report(p));
        }
        else
            Tick(force: true);
    }

    /// <summary>The latest failed execve/execveat of a process other than the launcher that sent no exit record, if any.</summary>
    private Tracked? FailedCommandExec(int launcher)
    {
        Tracked? latest = null;
        foreach (var c in _procs.Values)
        {
            if (c.Pid == launcher || c.Exit is not null) continue;
            foreach (var t in c.Failures)
                if (t.Event.Syscall is "execve" or "execveat" && (latest is null || t.Event.TimestampNs > latest.Event.TimestampNs))
                    latest = t;
        }
        return latest;
    }

    private VerdictReport Report(ProcessTrack p)
    {
        long routine = 0, notRoutine = 0;
        foreach (var d in Tree(p))
        {
            routine += d.Routine + d.InheritedRoutine;
            notRoutine += d.NotRoutine + d.InheritedNotRoutine;
        }
        return new VerdictReport
        {
            Pid = p.Pid,
            Comm = p.Exit?.Comm is { Length: > 0 } c ? c : p.Comm,
            ExitStatus = p.Exit is { } end ? end.ExitStatus : 0, // null: a signal ended it
            Signal = p.Exit?.Signal ?? 0,
            CoreDumped = p.Exit?.CoreDumped ?? false,
            Culprits = p.Culprits.Select(t => t.Event).ToList(),
            Via = p.Culprits.Select(t => (IReadOnlyList<ChildEnd>)(p.CulpritVia.GetValueOrDefault(t) ?? [])).ToList(),
            Routine = routine,
            NotRoutine = notRoutine,
        };
    }

    /// <summary>The process and its descendants (as far as their exits named their parents).</summary>
    private IEnumerable<ProcessTrack> Tree(ProcessTrack root)
    {
        var seen = new HashSet<int> { root.Pid };
        var todo = new Queue<ProcessTrack>([root]);
        while (todo.TryDequeue(out var p))
        {
            yield return p;
            foreach (var c in _procs.Values)
                if (c.Exit?.ParentPid == p.Pid && seen.Add(c.Pid)) todo.Enqueue(c);
        }
    }
}
