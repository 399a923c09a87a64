using Whyfail.Events;

namespace Whyfail.Decoding;

/// <summary>
/// Turns a captured system call into strace-style argument strings, and tells the BPF side what user
/// memory to copy for each call so that it can.
/// </summary>
public static class Decoder
{
    /// <summary>The decoder families, one file each under Families/ (strace's one-file-per-family layout).</summary>
    private static readonly Action<Registry>[] Families =
    [
        OpenFamily.Register,
        StatFamily.Register,
        AccessFamily.Register,
        FileOpsFamily.Register,
        ReadWriteFamily.Register,
        FcntlFamily.Register,
        IoctlFamily.Register,
        InotifyFamily.Register,
        MountFamily.Register,
        ExecFamily.Register,
        CloneFamily.Register,
        WaitFamily.Register,
        SignalFamily.Register,
        PtraceFamily.Register,
        PrctlFamily.Register,
        CredsFamily.Register,
        ResourceFamily.Register,
        SeccompFamily.Register,
        SocketFamily.Register,
        SockoptFamily.Register,
        MemoryFamily.Register,
        PerfFamily.Register,
        BpfFamily.Register,
        IoUringFamily.Register,
        EpollFamily.Register,
        TimeFamily.Register,
        FutexFamily.Register,
        AioFamily.Register,
        SchedFamily.Register,
        KeysFamily.Register,
        ArchPrctlFamily.Register,
        FanotifyFamily.Register,
        ModuleFamily.Register,
        SysadminFamily.Register,
        IpcFamily.Register,
    ];

    /// <summary>Arguments (by kernel parameter name) that hold a path: captured whole.</summary>
    internal static readonly HashSet<string> PathArgs =
    [
        "filename", "pathname", "path", "oldname", "newname", "new_root", "put_old", "from_pathname",
        "to_pathname", "specialfile", "special", "dir_name", "dev_name",
    ];

    /// <summary>
    /// An argument that names an open file by its descriptor, from its kernel parameter name: fd, dfd, oldfd,
    /// newdfd, out_fd, fd_in, epfd, pidfd, … (an integer whose name is or ends in "fd", or starts with "fd_").
    /// </summary>
    internal static bool IsDescriptor(string ctype, string name) =>
        !ctype.Contains('*') && (ctype.Contains("int") || ctype.Contains("long")) &&
        (name.EndsWith("fd", StringComparison.Ordinal) && name != "max_fd" || name.StartsWith("fd_", StringComparison.Ordinal) || name is "fdin" or "fdout");

    /// <summary>const char * arguments that are not NUL-terminated strings (families capture them by length).</summary>
    private static readonly HashSet<string> NotStrings = ["buf", "u_msg_ptr"];

    /// <summary>A call's decoder and capture spec, made from its families when it is first decoded (Spec null: nothing to capture).</summary>
    private sealed record Entry(DecodeFn? Decode, CaptureSpec? Spec);

    private static readonly Entry?[] ByNr = new Entry?[SyscallTable.MaxNr];
    /// <summary>Each family's registration, made on first use: a family's tables are parsed when one of its calls is first decoded.</summary>
    private static readonly Registry?[] Registered = new Registry?[Families.Length];
    private static readonly Lock Gate = new();

    /// <summary>Every family (bit i: <see cref="Families"/>[i]).</summary>
    private static ulong AllFamilies => Families.Length == 64 ? ulong.MaxValue : (1UL << Families.Length) - 1;

    /// <summary>
    /// The decoder and spec of call <paramref name="nr"/>: only the families that the build-time table says touch it
    /// (<see cref="Capture.CaptureTable.FamiliesOf"/>) are registered, so the first failure costs its own family's
    /// tables, not all 35 families' (issue 16: the warm-up before the command's release).
    /// </summary>
    private static Entry For(int nr)
    {
        if (Volatile.Read(ref ByNr[nr]) is { } e) return e;
        lock (Gate)
        {
            e = ByNr[nr] ?? Make(nr, Capture.CaptureTable.FamiliesOf(nr));
            Volatile.Write(ref ByNr[nr], e);
            return e;
        }
    }

    /// <summary>A call's entry from the families in <paramref name="families"/>, in the families' order (the caller holds <see cref="Gate"/>).</summary>
    private static Entry Make(int nr, ulong families)
    {
        if (SyscallTable.Get(nr) is not { } info) return new Entry(null, null);
        DecodeFn? decode = null;
        var spec = DefaultSpec(info);
        for (int i = 0; i < Families.Length; i++)
        {
            if ((families & (1UL << i)) == 0) continue;
            var r = Registered[i] ??= Register(i);
            if (decode is null && r.Decoders.TryGetValue(info.Name, out var fn)) decode = fn;
            if (r.Captures.TryGetValue(info.Name, out var changes))
                foreach (var change in changes) change(spec);
        }
        return new Entry(decode, spec.Needed ? spec : null);
    }

    private static Registry Register(int family)
    {
        var r = new Registry();
        Families[family](r);
        return r;
    }

    /// <summary>
    /// Which families register a decoder or a capture for each call (bit i: <see cref="Families"/>[i]), from the families
    /// themselves, every one registered: what tools/gen-capture-table writes into the build-time table. Two families
    /// decoding one call is an error, as it was when they all registered into one registry.
    /// </summary>
    internal static IReadOnlyDictionary<int, ulong> FamiliesByCall()
    {
        var byCall = new SortedDictionary<int, ulong>();
        var decodedBy = new Dictionary<string, int>(StringComparer.Ordinal);
        lock (Gate)
        {
            for (int i = 0; i < Families.Length; i++)
            {
                var r = Registered[i] ??= Register(i);
                foreach (var name in r.Decoders.Keys)
                    if (!decodedBy.TryAdd(name, i))
                        throw new InvalidOperationException($"two decoders for {name}");
                foreach (var name in r.Decoders.Keys.Concat(r.Captures.Keys))
                    if (SyscallTable.TryGetNumber(name, out int nr) && nr is >= 0 and < SyscallTable.MaxNr)
                        byCall[nr] = byCall.GetValueOrDefault(nr) | 1UL << i;
            }
        }
        return byCall;
    }

    /// <summary>The families registered so far, by index (tests: a first decode registers only the families of its call).</summary>
    internal static IReadOnlyList<int> FamiliesRegistered()
    {
        lock (Gate)
            return Enumerable.Range(0, Families.Length).Where(i => Registered[i] != null).ToList();
    }

    /// <summary>
    /// The arguments of <paramref name="ev"/> as strace prints them. Strings other than paths show at most
    /// <paramref name="stringLimit"/> bytes (strace's -s). Never throws: whatever a decoder cannot make
    /// sense of is shown raw.
    /// </summary>
    public static string[] Decode(SyscallEvent ev, int stringLimit)
    {
        try
        {
            return DecodeUnguarded(ev, stringLimit);
        }
        catch (Exception)
        {
            // Decoders are written to tolerate any capture; this is the last line of defence.
            var info = SyscallTable.Get(ev.Nr);
            int n = info is { ArgsKnown: true } ? info.Args.Count : 6;
            return Enumerable.Range(0, n).Select(i => Fmt.Hex(i < ev.Args.Length ? ev.Args[i] : 0)).ToArray();
        }
    }

    /// <summary><see cref="Decode"/> without the safety net (tests use it to find decoders that throw).</summary>
    internal static string[] DecodeUnguarded(SyscallEvent ev, int stringLimit)
    {
        var info = SyscallTable.Get(ev.Nr);
        var entry = ev.Nr is >= 0 and < SyscallTable.MaxNr ? For(ev.Nr) : null;
        var call = new Call(ev, info, entry?.Spec, stringLimit);
        return entry?.Decode is { } fn ? fn(call) : call.Defaults(call.ArgCount);
    }

    /// <summary>The name to print for a call: its name, or syscall_0x1ff for an unknown number.</summary>
    public static string SyscallName(int nr) => SyscallTable.DisplayName(nr);

    /// <summary>
    /// What to copy from user memory at exit, for every call that needs anything (each spec is a fresh
    /// copy the caller may keep), from every family: what the build-time table is made of.
    /// </summary>
    public static IEnumerable<(int Nr, CaptureSpec Spec)> CaptureSpecs()
    {
        var all = new List<(int, CaptureSpec)>();
        lock (Gate)
            for (int nr = 0; nr < SyscallTable.MaxNr; nr++)
                if (Make(nr, AllFamilies).Spec is { } s)
                    all.Add((nr, s));
        return all;
    }

    /// <summary>The capture spec of one call (its families registered if they were not), or null when nothing is captured for it.</summary>
    public static CaptureSpec? CaptureSpecFor(int nr) =>
        nr is >= 0 and < SyscallTable.MaxNr && For(nr).Spec is { } s ? Copy(s) : null;

    private static CaptureSpec Copy(CaptureSpec s) => s.Clone();

    /// <summary>Captures implied by the declared argument types: path and other input strings, argv.</summary>
    private static CaptureSpec DefaultSpec(SyscallInfo info)
    {
        var spec = new CaptureSpec();
        for (int i = 0; i < info.Args.Count && i < 6; i++)
        {
            var a = info.Args[i];
            if (a.CType == "const char *const *" && a.Name == "argv")
                spec.Vector(i);
            else if (a.CType is "const char *" or "char *" && PathArgs.Contains(a.Name))
                spec.Path(i);
            else if (a.CType == "const char *" && !NotStrings.Contains(a.Name))
                spec.Str(i);
            if (IsDescriptor(a.CType, a.Name)) spec.FdArgs |= (byte)(1 << i);
        }
        return spec;
    }
}
