using System.Diagnostics;
using Whyfail.Capture.Deny;
using Whyfail.Decoding;
using Whyfail.Events;
using Whyfail.Rendering;

namespace Whyfail.Tracing.Deny;

/// <summary>
/// `whyfail deny` inside a trace session: the enforcer's refusals paired with the failing calls of whyfail's own
/// trace. The BPF LSM program writes its refusal before the refused call returns, so by the time the call's sys_exit
/// event is read, reading the refusals' ring buffer first finds it: same thread, the rule's errno, not later than the
/// call's exit. A refusal that no failing call claims within <see cref="UnpairedAfterNs"/> (a call whyfail does not
/// trace, like an io_uring request; an event lost) is reported on its own, as a notice.
/// </summary>
public sealed class DenyMatcher : IDisposable
{
    public const ulong UnpairedAfterNs = 5_000_000_000;

    private readonly DenyEnforcer _enforcer;
    private readonly IReadOnlyList<DenyRule> _rules;
    private readonly Dictionary<int, List<Denial>> _pending = [];
    private readonly List<Denial> _aged = [];

    /// <summary>Refusals paired with their call (and so reported decoded).</summary>
    public ulong Reported { get; private set; }
    /// <summary>Refusals reported without their call.</summary>
    public ulong Unpaired { get; private set; }

    private DenyMatcher(DenyEnforcer enforcer, IReadOnlyList<DenyRule> rules)
    {
        _enforcer = enforcer;
        _rules = rules;
        enforcer.OnRefusal = d =>
        {
            if (!_pending.TryGetValue(d.Tid, out var list)) _pending[d.Tid] = list = [];
            list.Add(d);
        };
    }

    /// <summary>Loads (verifies) the programs and stores the rules; nothing is refused before <see cref="Start"/>.</summary>
    public static DenyMatcher Load(IReadOnlyList<DenyRule> rules) => new(DenyEnforcer.Load(rules), rules);

    /// <summary>Attaches the programs: the rules refuse from now on.</summary>
    public void Start(Action<string> notice)
    {
        var sw = Stopwatch.StartNew();
        _enforcer.Attach();
        notice($"deny: enforcing {_rules.Count} rule(s) with BPF LSM programs on the hooks {string.Join(", ", _enforcer.Hooks.Select(DenyHooks.Name))}, " +
            $"for every process but whyfail itself, until Ctrl-C or SIGTERM; each refusal is reported with its call (attached in {sw.ElapsedMilliseconds} ms)");
        foreach (var r in _rules)
            notice($"deny: rule {r.Number} ({r.Text}): {Describe(r)}");
    }

    /// <summary>"a new name matching *.tmp, by every user but uid 0, with EACCES".</summary>
    public static string Describe(DenyRule r)
    {
        var who = r.Users switch
        {
            DenyUsers.Only => $"by effective uid {string.Join(" or ", r.Uids)}",
            DenyUsers.Except => $"by every effective uid but {string.Join(", ", r.Uids)}",
            _ => "by any user",
        };
        if (r.Comm != null) who += $", in processes named {r.Comm}";
        return $"refuses {r.Matches} {who}, with {Errno.Name(r.Errno) ?? r.Errno.ToString()}";
    }

    /// <summary>Stops refusing (detaches the programs); what was refused can still be read.</summary>
    public void Stop() => _enforcer.Detach();

    /// <summary>Marks <paramref name="ev"/> with the refusal that made it fail, if a rule refused it.</summary>
    public void Mark(SyscallEvent ev)
    {
        _enforcer.Consume();
        if (ev.Uring != null || ev.KernelErrno == 0 || !_pending.TryGetValue(ev.Tid, out var list)) return;
        for (int i = list.Count - 1; i >= 0; i--)
        {
            var d = list[i];
            if (d.TimestampNs > ev.TimestampNs || d.Errno != ev.KernelErrno) continue;
            ev.DeniedBy = d;
            list.RemoveAt(i);
            if (list.Count == 0) _pending.Remove(ev.Tid);
            Reported++;
            return;
        }
    }

    /// <summary>Reports the refusals no call claimed in time (all of them when <paramref name="final"/>).</summary>
    public void Tick(Action<string> notice, bool final = false)
    {
        _enforcer.Consume();
        if (_pending.Count == 0) return;
        ulong now = KernelClock.NowNs();
        _aged.Clear();
        foreach (var (tid, list) in _pending)
        {
            list.RemoveAll(d =>
            {
                if (!final && now - Math.Min(now, d.TimestampNs) < UnpairedAfterNs) return false;
                _aged.Add(d);
                return true;
            });
        }
        foreach (var tid in _pending.Where(kv => kv.Value.Count == 0).Select(kv => kv.Key).ToList()) _pending.Remove(tid);
        foreach (var d in _aged.OrderBy(d => d.TimestampNs))
        {
            Unpaired++;
            var what = d.Subject == "port" ? $"port {d.Matched}" : $"the {d.Subject} \"{TextSafety.Sanitize(d.Matched)}\"";
            notice($"deny: rule {d.Rule} ({d.RuleText}) refused {d.Hook} of {what} for {TextSafety.Sanitize(d.Comm)} (pid {d.Pid}, tid {d.Tid}, euid {d.Euid}) " +
                $"with {Errno.Name(d.Errno)}; no failing call of that thread in the trace claimed it (a request whyfail does not trace, such as io_uring's, or its event was lost)");
        }
    }

    /// <summary>The kernel's counters per rule, with what was reported.</summary>
    public DenySummary Summary()
    {
        var (per, lost) = _enforcer.Counts();
        return new DenySummary(_rules.Select(r => (r.Number, r.Text, per[r.Number - 1])).ToList(), Reported, lost, Unpaired);
    }

    public void Dispose() => _enforcer.Dispose();
}
