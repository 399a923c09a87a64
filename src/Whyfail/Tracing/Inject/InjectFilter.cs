using Whyfail.Analysis.Seccomp;
using Whyfail.Decoding;

namespace Whyfail.Tracing.Inject;

/// <summary>
/// The seccomp filter the launcher installs in the command's process before exec (inherited by every child and thread):
/// for each system call the first --inject rule that names it decides. A plain rule (an errno on every call) becomes
/// SECCOMP_RET_ERRNO, decided in the kernel; a rule with a path, comm or count condition, or retval=, becomes
/// SECCOMP_RET_USER_NOTIF, answered by whyfail's supervisor (<see cref="InjectSupervisor"/>). With a supervisor, execve and
/// execveat are always notified too: the command's first execve waits until whyfail holds the notification descriptor.
/// Other architectures (i386 via int 0x80) and x32 calls are allowed.
/// </summary>
public sealed class InjectFilter
{
    // SECCOMP_RET_* and the filter flag, from the generated tables (Decoding/Data), never typed by hand.
    public static readonly uint RetAllow = Kernel("seccomp_ret_actions", "SECCOMP_RET_ALLOW"),
        RetErrno = Kernel("seccomp_ret_actions", "SECCOMP_RET_ERRNO"), RetUserNotif = Kernel("seccomp_ret_actions", "SECCOMP_RET_USER_NOTIF");
    /// <summary>SECCOMP_FILTER_FLAG_NEW_LISTENER.</summary>
    public static readonly uint FlagNewListener = Kernel("seccomp_filter_flags", "SECCOMP_FILTER_FLAG_NEW_LISTENER");

    internal static uint Kernel(string table, string name) => checked((uint)Decoding.Xlat.Table(table)[name]);

    private readonly Dictionary<int, uint> actions = [];

    public IReadOnlyList<InjectRule> Rules { get; }
    public ClassicBpf Program { get; }
    /// <summary>Some calls are decided by whyfail's supervisor (a SECCOMP_FILTER_FLAG_NEW_LISTENER filter).</summary>
    public bool NeedsSupervisor { get; }

    public InjectFilter(IReadOnlyList<InjectRule> rules)
    {
        Rules = rules;
        foreach (var rule in rules)
            foreach (int nr in rule.Syscalls)
                actions.TryAdd(nr, rule.Plain ? RetErrno | (uint)rule.Error!.Value : RetUserNotif);
        NeedsSupervisor = actions.Values.Contains(RetUserNotif);
        if (NeedsSupervisor)
            foreach (var name in new[] { "execve", "execveat" })
                if (SyscallTable.TryGetNumber(name, out int nr) && !actions.ContainsKey(nr)) actions[nr] = RetUserNotif;
        Program = Build();
    }

    /// <summary>What the filter returns for a native x86_64 call.</summary>
    public uint ActionFor(int nr) => actions.TryGetValue(nr, out uint a) ? a : RetAllow;

    /// <summary>The rule that made the kernel fail this call with SECCOMP_RET_ERRNO, if the filter did.</summary>
    public InjectRule? PlainRuleFor(int nr, int errno)
    {
        if (ActionFor(nr) != (RetErrno | (uint)errno)) return null;
        return Rules.FirstOrDefault(r => r.Syscalls.Contains(nr));
    }

    private ClassicBpf Build()
    {
        const ushort LdAbs = ClassicBpf.LD | ClassicBpf.W | ClassicBpf.ABS, Ret = ClassicBpf.RET | ClassicBpf.K;
        const ushort Jeq = ClassicBpf.JMP | ClassicBpf.JEQ | ClassicBpf.K, Jge = ClassicBpf.JMP | ClassicBpf.JGE | ClassicBpf.K;
        var p = new List<SockFilter>
        {
            SockFilter.Stmt(LdAbs, 4),                                  // arch
            SockFilter.Jump(Jeq, SeccompData.AuditArchX86_64, 1, 0),
            SockFilter.Stmt(Ret, RetAllow),
            SockFilter.Stmt(LdAbs, 0),                                  // nr
            SockFilter.Jump(Jge, 0x40000000, 0, 1),                     // __X32_SYSCALL_BIT
            SockFilter.Stmt(Ret, RetAllow),
        };
        foreach (var (nr, action) in actions.OrderBy(kv => kv.Key))
        {
            p.Add(SockFilter.Jump(Jeq, (uint)nr, 0, 1));
            p.Add(SockFilter.Stmt(Ret, action));
        }
        p.Add(SockFilter.Stmt(Ret, RetAllow));
        if (p.Count > ClassicBpf.MaxInstructions)
            throw new WhyfailException($"--inject: the rules name too many system calls for one seccomp filter ({actions.Count})", ExitCodes.Usage);
        return ClassicBpf.FromInstructions(p);
    }

    // --- passing the filter to the launcher (an environment variable it removes before exec) ---

    public const string EnvVar = LauncherFilter.EnvVar;

    /// <summary>"FLAGS:HEX:NUMBERS" for <see cref="EnvVar"/>: the kernel's numbers the launcher needs go with the program.</summary>
    public string Encode() => $"{(NeedsSupervisor ? FlagNewListener : 0)}:{Convert.ToHexString(Program.ToBytes())}:{LauncherFilter.FromTables().Encode()}";

    public static bool TryDecode(string? s, out uint flags, out byte[] program) => LauncherFilter.TryDecode(s, out flags, out program, out _);

    // --- whyfail's own filters, recognised by their instructions (seccomp.blocked leaves them to inject.injected) ---

    private static readonly List<byte[]> Own = [];

    public void Register()
    {
        lock (Own) Own.Add(Program.ToBytes());
    }

    /// <summary>
    /// With --inject, every traced process descends from the command, whose first filter is whyfail's (when whyfail itself
    /// runs under none): a thread with this many filters or fewer has only whyfail's. 0 without --inject.
    /// </summary>
    public static int OwnInstalledFirst { get; private set; }

    /// <summary>Called for the session's filter when whyfail itself runs under no seccomp filter.</summary>
    public void RegisterInstalledFirst() => OwnInstalledFirst = 1;

    public static bool IsOwn(ClassicBpf filter)
    {
        var bytes = filter.ToBytes();
        lock (Own) return Own.Any(o => o.AsSpan().SequenceEqual(bytes));
    }
}
