using Whyfail.Analysis.Explain.Rules;
using Whyfail.Events;

namespace Whyfail.Analysis.Explain;

/// <summary>
/// Runs the explanation rules on a failed call against the live state of the process that made it, and appends
/// what they find to <see cref="SyscallEvent.Explanation"/>. When no rule finds a cause it says so, with what was
/// checked (rule "unknown"); when the process is gone and a rule needed what went with it, it says what (rule
/// "process.gone").
/// </summary>
public sealed class ExplainEngine
{
    /// <summary>Every rule, in the order they run. A new rule is one file under Rules/ and one line here.</summary>
    static readonly IExplainRule[] Rules =
    [
        new Injected(),
        new DeniedByRule(),
        new SeccompBlocked(),
        new LsmDenied(),
        new CapabilityDenied(),
        new PathMissingComponent(),
        new ExecInterpreterMissing(),
        new ExecFormat(),
        new PathNotDirectory(),
        new PathPermissionDenied(),
        new ExecNoexecMount(),
        new PathProtectedInSticky(),
        new PathSymlinkLoop(),
        new PathNameTooLong(),
        new ReadOnlyMount(),
        new StickyDirectory(),
        new ImmutableFile(),
        new NotOwner(),
        new CrossDevice(),
        new RenameIntoItself(),
        new TooManyOpenFiles(),
        new SystemFileTable(),
        new PathExists(),
        new IsDirectory(),
        new DirectoryNotEmpty(),
        new BadDescriptor(),
        new ConnectionRefused(),
        new AddressInUse(),
        new PrivilegedPort(),
        new AddressNotAvailable(),
        new LockConflict(),
        new TextBusy(),
        new ExecArgsTooBig(),
        new MountBusy(),
        new KillPermission(),
        new KillNoProcess(),
        new NoChild(),
        new IoctlNotSupported(),
        new NoControllingTerminal(),
        new NotSeekable(),
        new SeekInvalid(),
        new NotASymlink(),
        new ConnectInProgress(),
        new ProcPrivateEntry(),
        new CapabilityBeyondLast(),
        new PtracePermission(),
        new PtraceNoProcess(),
        new ProcessLimit(),
        new NoSpace(),
        new DiskQuota(),
        new InotifyLimit(),
        new NamespaceLimit(),
        new PerfAttrInvalid(),
        new CloneArgsInvalid(),
        new IoUringParamsInvalid(),
        new PipeNoReader(),
        new FileSizeLimit(),
        new OpenTmpfile(),
        new PathSearch(),
    ];

    private readonly IExplainRule[] rules;

    public ExplainEngine() : this(Rules) { }

    /// <summary>An engine with another rule list (for tests of a single rule).</summary>
    public ExplainEngine(IExplainRule[] rules) => this.rules = rules;

    /// <summary>The built-in rules.</summary>
    public static IReadOnlyList<IExplainRule> AllRules => Rules;

    public void Explain(SyscallEvent ev)
    {
        if (!ev.Failed) return;
        var proc = new ProcessView(ev);
        var (found, evidenceBased, ran) = RunRules(ev, proc);
        // The process exited while the rules looked at it (a short-lived command): its root, cwd and
        // descriptors vanished half-way. Look again as for a process that is gone (this machine's root
        // and the event's ids) rather than report the vanished state as unknown.
        // With the failure's context, a gone process loses little: look again whatever was found.
        if (proc.Alive && (found.Count == 0 || ev.Context != null) && !new ProcessView(ev.Pid, ev.Tid).Alive)
        {
            proc = new ProcessView(ev);
            (found, evidenceBased, ran) = RunRules(ev, proc);
        }

        // Earlier analysis (e.g. signal restart resolution) may already have named the cause.
        bool unexplained = found.Count == 0 && ev.Explanation.Count == 0;
        if (unexplained) found.Add(Unknown(ev, proc, ran));
        // A process that is gone qualifies the explanations only where that cost something: a rule needed a fact that
        // neither the state captured at the failure nor the process could give (noted in proc.Lost), or, with nothing
        // captured (an error delivered as data, a kernel that refuses the capture), no rule found a cause. A cause found
        // from the call, the capture and this machine (a refused connect: the address and the listeners) stands as it is.
        if (!proc.Alive && (proc.Lost.Count > 0 || (ev.Context is null && unexplained)))
        {
            for (int i = 0; i < found.Count; i++)
                if (!evidenceBased.Contains(found[i].Rule) && !found[i].FromErrno) found[i] = found[i] with { Certain = false };
            found.Add(new Explanation("process.gone", Gone(ev, proc), null, false));
        }
        ev.Explanation.AddRange(found);
    }

    /// <summary>What the process's exit kept from being checked.</summary>
    private static string Gone(SyscallEvent ev, ProcessView proc)
    {
        var exited = $"pid {ev.Pid} has exited{(proc.PidReused ? " (the pid now belongs to a newer process)" : "")}";
        if (ev.Context != null)
            return $"{exited}; the state captured at the failure was used, but it does not hold {Words.Join(proc.Lost)}, which could not be checked";
        if (proc.Lost.Count == 0)
            return $"{exited}, so this could not be checked against its live state (cwd, root, credentials, descriptors, mounts); " +
                   "absolute paths were checked against this machine's root and the event's ids";
        return $"{exited}, so this could not be checked against its live state, and no state was captured at the failure: " +
               $"{Words.Join(proc.Lost)} could not be checked" +
               (proc.Lost.Contains(ProcessView.LostRoot) ? "; absolute paths were checked against this machine's root and the event's ids" : "");
    }

    private (List<Explanation> Found, HashSet<string> EvidenceBased, List<string> Ran) RunRules(SyscallEvent ev, ProcessView proc)
    {
        var found = new List<Explanation>();
        var ran = new List<string>();
        var evidenceBased = new HashSet<string>();
        foreach (var rule in rules)
        {
            bool applies;
            try { applies = rule.AppliesTo(ev); }
            catch (Exception ex)
            {
                // Reported like a failure in Explain: a rule that breaks is said, never silently skipped.
                proc.Checked.Add($"rule {rule.Id} could not decide whether it applies ({ex.GetType().Name}: {ex.Message})");
                continue;
            }
            if (!applies) continue;
            ran.Add(rule.Id);
            try
            {
                foreach (var e in rule.Explain(ev, proc)) found.Add(e);
                if (rule.FromEvidence) evidenceBased.Add(rule.Id);
                if (rule is Injected or DeniedByRule && found.Count > 0) break; // whyfail made this error: nothing else caused it
            }
            catch (Exception ex)
            {
                proc.Checked.Add($"rule {rule.Id} could not finish ({ex.GetType().Name}: {ex.Message})");
            }
        }
        return (found, evidenceBased, ran);
    }

    private static Explanation Unknown(SyscallEvent ev, ProcessView proc, List<string> ran)
    {
        var err = Errnos.Name(ev.Errno);
        var sc = ev.Syscall.Length > 0 ? ev.Syscall : $"syscall {ev.Nr}";
        var items = new List<string>(proc.Checked);
        if (ran.Count == 0) items.Add($"the rule list (no rule covers {err} from {sc})");
        else if (proc.Checked.Count == 0) items.Add($"rules {string.Join(", ", ran)} (none found a cause)");
        foreach (var f in Facts(ev, proc)) items.Add(f);
        if (ev.Errno is Errnos.EACCES or Errnos.EPERM)
            items.Add("not visible from /proc: security modules (SELinux, AppArmor, Landlock) and seccomp filters, which can also refuse with this error");
        return new Explanation("unknown", $"no rule matched {err} from {sc}; checked: {string.Join("; ", items)}", null, false);
    }

    // Plain facts about the call's descriptors and paths, so "unknown" still says what the call was working on.
    private static IEnumerable<string> Facts(SyscallEvent ev, ProcessView proc)
    {
        if (!proc.Alive && proc.Context is null) yield break;
        foreach (var i in SyscallArgs.FdArgs(ev))
        {
            int fd = SyscallArgs.Int(ev, i);
            var (was, when) = proc.FdKnown(fd) ? ("was", "at the failure") : ("is", "now");
            if (!proc.Alive && !proc.FdKnown(fd)) continue;
            var info = proc.Fd(fd);
            if (info is null) { yield return $"descriptor {fd} {was} not open {when}"; continue; }
            var kind = proc.StatFd(fd, out var st) ? Words.Kind(st.Kind) : "unknown type";
            yield return $"descriptor {fd} {was} open {when} on {Words.Q(proc.FdTarget(info))} ({kind}, {info.AccessWords})";
        }
        foreach (var pa in SyscallArgs.Paths(ev))
        {
            var w = proc.PathWalk(pa.Path, pa.Dirfd, pa.FollowFinal);
            if (w.Ok && w.Target is { } t)
                yield return $"{Words.Q(pa.Path)} resolves to {Words.Q(t.Path)} ({Words.Kind(t.Kind)}, {Words.Owner(proc, t)})";
            else if (w.Outcome == WalkOutcome.Missing && w.FailedAt is { } m)
                yield return $"{Words.Q(m.Path)} does not exist now";
        }
    }
}
