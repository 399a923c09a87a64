using System.Globalization;

namespace Whyfail.Analysis.Seccomp;

/// <summary>The action part of a seccomp filter's return value (SECCOMP_RET_ACTION_FULL bits, linux/seccomp.h).</summary>
public enum SeccompAction : uint
{
    KillProcess = 0x80000000,
    KillThread = 0x00000000,
    Trap = 0x00030000,
    Errno = 0x00050000,
    UserNotif = 0x7fc00000,
    Trace = 0x7ff00000,
    Log = 0x7ffc0000,
    Allow = 0x7fff0000,
}

/// <summary>Helpers for SECCOMP_RET_* return values.</summary>
public static class SeccompRet
{
    public const uint ActionFull = 0xffff0000, DataMask = 0x0000ffff;
    /// <summary>MAX_ERRNO: the kernel caps SECCOMP_RET_ERRNO data at this.</summary>
    public const int MaxErrno = 4095;

    public static uint ActionBits(uint ret) => ret & ActionFull;
    public static ushort Data(uint ret) => (ushort)(ret & DataMask);

    /// <summary>The action, or null for an action value the kernel does not define (it kills the process for those).</summary>
    public static SeccompAction? Action(uint ret) => ActionBits(ret) switch
    {
        0x80000000 => SeccompAction.KillProcess,
        0x00000000 => SeccompAction.KillThread,
        0x00030000 => SeccompAction.Trap,
        0x00050000 => SeccompAction.Errno,
        0x7fc00000 => SeccompAction.UserNotif,
        0x7ff00000 => SeccompAction.Trace,
        0x7ffc0000 => SeccompAction.Log,
        0x7fff0000 => SeccompAction.Allow,
        _ => null,
    };

    /// <summary>
    /// The kernel's precedence key (ACTION_ONLY in kernel/seccomp.c: the action bits as a signed 32-bit value);
    /// lower wins: KILL_PROCESS &lt; KILL_THREAD &lt; TRAP &lt; ERRNO &lt; USER_NOTIF &lt; TRACE &lt; LOG &lt; ALLOW.
    /// </summary>
    public static int Precedence(uint ret) => unchecked((int)(ret & ActionFull));

    /// <summary>"ERRNO(1)", "KILL_PROCESS", "TRACE(7)", "ALLOW", "unknown action 0x00010000".</summary>
    public static string Describe(uint ret)
    {
        ushort d = Data(ret);
        return Action(ret) switch
        {
            SeccompAction.KillProcess => "KILL_PROCESS",
            SeccompAction.KillThread => "KILL_THREAD",
            SeccompAction.Trap => $"TRAP({d})",
            SeccompAction.Errno => $"ERRNO({d})",
            SeccompAction.UserNotif => "USER_NOTIF",
            SeccompAction.Trace => $"TRACE({d})",
            SeccompAction.Log => "LOG",
            SeccompAction.Allow => "ALLOW",
            _ => $"unknown action 0x{ActionBits(ret).ToString("x8", CultureInfo.InvariantCulture)}",
        };
    }
}

/// <summary>What one filter returned for the call.</summary>
/// <param name="Index">The filter's index in installation order (0 = installed first), as PTRACE_SECCOMP_GET_FILTER numbers them.</param>
public sealed record FilterOutcome(int Index, uint Ret, BpfRun Run);

/// <summary>
/// The result of running all of a thread's seccomp filters on one call, combined as kernel/seccomp.c
/// seccomp_run_filters does: every filter runs, newest first, and a filter's return value replaces the result so far
/// only when its action is strictly more restrictive (ACTION_ONLY(cur) &lt; ACTION_ONLY(ret), data ignored). So among
/// filters returning the same action the newest one decides (its data, e.g. the errno, is the one used), and when
/// every filter allows, no filter decided.
/// </summary>
public sealed class SeccompVerdict
{
    /// <summary>The combined return value (SECCOMP_RET_ALLOW when every filter allowed).</summary>
    public uint Ret { get; }
    /// <summary>The filter whose return value was taken (installation-order index), or -1 when all allowed.</summary>
    public int DecidingFilter { get; }
    public int FilterCount => Outcomes.Count;
    /// <summary>Each filter's own result, by installation-order index.</summary>
    public IReadOnlyList<FilterOutcome> Outcomes { get; }

    private SeccompVerdict(uint ret, int deciding, IReadOnlyList<FilterOutcome> outcomes)
    {
        Ret = ret;
        DecidingFilter = deciding;
        Outcomes = outcomes;
    }

    public SeccompAction? Action => SeccompRet.Action(Ret);
    public ushort Data => SeccompRet.Data(Ret);
    public string Describe() => SeccompRet.Describe(Ret);

    /// <summary>Some filter loaded the instruction pointer (which the caller may not have known).</summary>
    public bool ReadInstructionPointer => Outcomes.Any(o => o.Run.ReadInstructionPointer);

    /// <summary>The fields the deciding filter looked at ("arch", "nr", "args[1]"); empty when none decided.</summary>
    public IReadOnlyList<string> DecidingFields => DecidingFilter >= 0 ? Outcomes[DecidingFilter].Run.FieldsRead : [];

    /// <summary>
    /// The errno the call returns because of this verdict when it is certain from the verdict alone: ERRNO(n) gives
    /// min(n, 4095) (0 means the call "succeeds" without running). Null for every other action.
    /// </summary>
    public int? Errno => Action == SeccompAction.Errno ? Math.Min((int)Data, SeccompRet.MaxErrno) : null;

    /// <summary>
    /// Runs <paramref name="filters"/> (installation order: index 0 was installed first) on <paramref name="data"/>.
    /// </summary>
    public static SeccompVerdict Evaluate(IReadOnlyList<ClassicBpf> filters, in SeccompData data)
    {
        var outcomes = new FilterOutcome[filters.Count];
        uint ret = (uint)SeccompAction.Allow;
        int deciding = -1;
        // The kernel walks current->seccomp.filter (the newest) through ->prev (older ones).
        for (int i = filters.Count - 1; i >= 0; i--)
        {
            var run = filters[i].Run(data);
            outcomes[i] = new FilterOutcome(i, run.Value, run);
            if (SeccompRet.Precedence(run.Value) < SeccompRet.Precedence(ret))
            {
                ret = run.Value;
                deciding = i;
            }
        }
        return new SeccompVerdict(ret, deciding, outcomes);
    }
}
