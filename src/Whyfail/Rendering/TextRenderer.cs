using System.Text;
using Whyfail.Decoding;
using Whyfail.Events;

namespace Whyfail.Rendering;

/// <summary>strace-style lines for people, with indented evidence / origin / explanation lines below.</summary>
/// <remarks>Routine failures are folded into one line per run of them unless <paramref name="showRoutine"/> (--routine).</remarks>
public sealed class TextRenderer(TextWriter output, bool color, bool showComm, bool showRoutine = true) : IRenderer
{
    private readonly RoutineFold _fold = new();
    private const string Red = "\e[31m", Yellow = "\e[33m", Dim = "\e[2m", Cyan = "\e[36m", Reset = "\e[0m";
    private readonly StringBuilder _sb = new();
    private readonly HashSet<int> _goneShown = [];

    private string Paint(string s, string code) => color ? code + s + Reset : s;

    public void Notice(string text)
    {
        output.WriteLine(Paint("whyfail: " + TextSafety.Sanitize(text), Dim));
        output.Flush();
    }

    public void Event(SyscallEvent ev)
    {
        if (!showRoutine && ev.Failed && ev.Routine is { } r)
        {
            _fold.Add(ev, r);
            return;
        }
        FlushFold();
        var sb = _sb.Clear();
        AppendCall(sb, ev);
        sb.Append('\n');
        if (ev.Consequence?.Message is { } said)
            sb.Append("    ").Append(Paint("said:", Cyan)).Append(' ').Append(VerdictText.Said(ev)).Append('\n');
        if (ev.HasEvidence) foreach (var evd in ev.Evidence)
            sb.Append("    ").Append(Paint("evidence:", Cyan)).Append(' ').Append(TextSafety.Sanitize(evd.Text)).Append('\n');
        if (ev.EvidenceLost)
            sb.Append("    ").Append(Paint("evidence:", Cyan)).Append(" (more evidence happened during this call than whyfail keeps)\n");
        if (ev.Origin is { } o)
        {
            // '*': seen on the kernel stack only, not watched.
            bool Unwatched(int i) => i < o.ChainWatched.Count && !o.ChainWatched[i];
            sb.Append("    ").Append(Paint("origin:", Cyan)).Append(' ');
            // An origin that is not a function (seccomp, a signal, a security module) is named first.
            if (o.Cause is { } cause) sb.Append(TextSafety.Sanitize(cause)).Append(o.Function.Length > 0 ? "; path: " : "");
            if (o.Function.Length > 0)
            {
                sb.Append(o.Function);
                if (o.Offset != 0) sb.Append("+0x").Append(o.Offset.ToString("x"));
                sb.Append(SourceText.Location(o.Frames));
                if (Unwatched(0)) sb.Append('*');
                for (int i = 1; i < o.Chain.Count; i++) sb.Append(" ← ").Append(o.Chain[i]).Append(Unwatched(i) ? "*" : "").Append(SourceText.ChainLocation(o, i));
            }
            bool anyUnwatched = Enumerable.Range(0, o.Chain.Count).Any(Unwatched);
            sb.Append(Paint($"  [{o.Backend}, {o.Confidence} confidence{(o.Deeper ? ", may be deeper" : "")}{(anyUnwatched ? "; * not watched, from the kernel stack" : "")}" +
                $"{(ev.OriginMissed == OriginMiss.NotWatchedYet ? "; its call graph was not all watched yet" : "")}]", Dim)).Append('\n');
            // --args: one line per chain function whose arguments were recorded, innermost first.
            for (int i = 0; i < o.ChainArgs.Count && i < o.Chain.Count; i++)
                if (o.ChainArgs[i] is { } args)
                    sb.Append("    ").Append(Paint("args:", Cyan)).Append(' ').Append(o.Chain[i]).Append('(').Append(ArgumentText.Join(args)).Append(")\n");
            if (o.DeeperWhy is { } deeper)
                sb.Append("    ").Append(Paint("may be deeper:", Cyan)).Append(' ').Append(deeper).Append('\n');
            SourceText.AppendSites(sb, o, s => Paint(s, Cyan), s => Paint(s, Red));
            foreach (var c in o.ErrnoChanges)
                sb.Append("    ").Append(Paint("errno changed:", Cyan)).Append(' ').Append(c).Append('\n');
        }
        else if (ev.OriginMissed == OriginMiss.NotWatchedYet)
            sb.Append("    ").Append(Paint("origin:", Cyan)).Append(Paint(" not watched yet (this syscall's kernel call graph is being attached; its later failures have an origin)", Dim)).Append('\n');
        if (ev.HasExplanation) foreach (var x in ev.Explanation)
        {
            // Said once per process: every later event of an exited process has the same caveat.
            if (x.Rule == "process.gone" && !_goneShown.Add(ev.Pid)) continue;
            sb.Append("    ").Append(Paint("why:", Yellow)).Append(' ').Append(TextSafety.Sanitize(x.Text)).Append('\n');
            if (x.Fix is { } fix)
                sb.Append("    ").Append(Paint("fix:", Yellow)).Append(' ').Append(TextSafety.Sanitize(fix)).Append('\n');
        }
        output.Write(sb); // written out by Flush, after each batch of events
    }

    /// <summary>"[pid N] call(args) = -1 ERRNO (text)", without a newline.</summary>
    private void AppendCall(StringBuilder sb, SyscallEvent ev)
    {
        sb.Append("[pid ").Append(ev.Tid);
        if (showComm) sb.Append(' ').Append(StringEscaper.Quote(Encoding.UTF8.GetBytes(ev.Comm), 64, false));
        if (ev.Cgroup?.Label is { } inside) sb.Append(" in ").Append(TextSafety.Sanitize(inside));
        sb.Append("] ").Append(ev.Syscall).Append('(').AppendJoin(", ", ev.DecodedArgs).Append(") = ");
        if (!ev.Failed)
            sb.Append(ev.Ret);
        else if (ev.ErrorAsData)
        {
            int e = ev.Errno;
            if (ev.Uring is null) sb.Append("0, "); // a completion has no return value of its own
            sb.Append(Paint($"error {Errno.Name(e) ?? e.ToString()}", Red)).Append(" (").Append(Errno.Message(e)).Append(") delivered as data");
        }
        else
        {
            int e = ev.Errno;
            string name = Errno.Name(e) ?? $"errno {e}";
            int k = ev.KernelErrno;
            if (k != e && Errno.IsInternal(k))
            {
                // What the kernel returned at exit, as strace shows it, then what signal delivery made of it.
                sb.Append(Paint($"? {Errno.Name(k) ?? $"errno {k}"}", Red)).Append(" (").Append(Errno.Message(k)).Append(") => ");
            }
            string result = Errno.IsInternal(e) ? $"? {name}" : $"-1 {name}";
            sb.Append(Paint(result, Red)).Append(" (").Append(Errno.Message(e)).Append(')');
        }
        if (ev.Injected) sb.Append(Paint(" (injected)", Red));
        if (ev.DeniedBy is { } denial) sb.Append(Paint($" (denied by rule {denial.Rule})", Red));
    }

    /// <summary>The folded line for the routine failures since the last line shown.</summary>
    private void FlushFold()
    {
        if (_fold.Take() is { } line) output.WriteLine(Paint(line, Dim));
    }

    public void Verdict(VerdictReport v)
    {
        FlushFold();
        var sb = _sb.Clear();
        sb.Append(Paint("verdict:", Yellow)).Append(' ').Append(VerdictText.Headline(v)).Append('\n');
        for (int i = 0; i < v.Culprits.Count; i++)
        {
            var c = v.Culprits[i];
            sb.Append("    ").Append(Paint("failed:", Red)).Append(' ');
            AppendCall(sb, c);
            sb.Append('\n');
            sb.Append("    ").Append(VerdictText.Consequence(c, v)).Append('\n');
            if (i < v.Via.Count)
                foreach (var step in VerdictText.Via(v.Via[i]))
                    sb.Append("    ").Append(step).Append('\n');
            if (c.Explanation.FirstOrDefault(x => x.Rule != "process.gone") is { } why)
                sb.Append("    ").Append(Paint("why:", Yellow)).Append(' ').Append(TextSafety.Sanitize(why.Text)).Append('\n');
        }
        output.Write(sb);
        output.Flush();
    }

    public void Flush() => output.Flush();

    public void Summary(TraceSummary s)
    {
        FlushFold();
        if (s.Print && s.Counts.Count > 0)
        {
            output.WriteLine();
            output.WriteLine($"{"count",8}  {"syscall",-20} {"errno",-16} comm");
            foreach (var ((sys, err, comm), n) in s.Counts.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key.Syscall))
                output.WriteLine($"{n,8}  {sys,-20} {err,-16} {StringEscaper.Quote(Encoding.UTF8.GetBytes(comm), 64, false)}");
            output.WriteLine($"failures: {s.NotRoutine} not routine, {s.Routine} routine (searches, fallbacks, probes the program recovered from)");
        }
        if (s.Lost > 0 || s.LostEvidence > 0)
            Notice($"{s.Lost} event(s) lost (ring buffer full), {s.LostEvidence} evidence item(s) lost; use a larger --buffer-size or a narrower --syscall filter");
        else if (s.Print)
            Notice($"{s.Reported} event(s) captured, none lost");
        if (s.Injected is { } inj)
            Notice($"--inject: {inj} call(s) injected");
        if (s.Deny is { } deny)
        {
            foreach (var r in deny.Rules)
                Notice($"deny: rule {r.Number} ({r.Text}) refused {r.Refused} operation(s)");
            Notice($"deny: {deny.Reported} refusal(s) reported with their call, {deny.Unreported} not" +
                (deny.Unreported > 0 ? $" ({deny.RingFull} with no room in the ring buffer, {deny.Unpaired} without a failing call of their thread in the trace)" : ""));
        }
        if (s.ExplanationsSkipped > 0)
            Notice($"{s.ExplanationsSkipped} failure(s) reported without an explanation: whyfail could not keep up with a flood of varied failures (a quarter of the ring buffer was waiting); narrow with --syscall, --errno or --comm, or raise --buffer-size");
        if (s.JudgedEarly > 0)
            Notice($"{s.JudgedEarly} failure(s) judged before the end of their wait for what follows: too many were waiting (a flood); a message or exit that came later is not linked to them");
        if (s.HiddenInternal > 0 && s.Print)
            Notice($"{s.HiddenInternal} kernel-internal return code(s) hidden (ERESTARTSYS …); --show-internal shows them");
        output.Flush();
    }

    public void Dispose() => output.Flush();
}
