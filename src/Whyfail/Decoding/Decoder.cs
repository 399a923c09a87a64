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

    private static readonly DecodeFn?[] DecoderByNr = new DecodeFn?[SyscallTable.MaxNr];
    private static readonly CaptureSpec?[] SpecByNr = new CaptureSpec?[SyscallTable.MaxNr];

    static Decoder()
    {
        var r = new Registry();
        foreach (var register in Families) register(r);
        foreach (var info in SyscallTable.All)
        {
            if (info.Nr is < 0 or >= SyscallTable.MaxNr) continue;
            if (r.Decoders.TryGetValue(info.Name, out var fn)) DecoderByNr[info.Nr] = fn;
            var spec = DefaultSpec(info);
            if (r.Captures.TryGetValue(info.Name, out var changes))
                foreach (var change in changes) change(spec);
            if (spec.Needed) SpecByNr[info.Nr] = spec;
        }
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
        var spec = ev.Nr is >= 0 and < SyscallTable.MaxNr ? SpecByNr[ev.Nr] : null;
        var call = new Call(ev, info, spec, stringLimit);
        var fn = ev.Nr is >= 0 and < SyscallTable.MaxNr ? DecoderByNr[ev.Nr] : null;
        return fn is not null ? fn(call) : call.Defaults(call.ArgCount);
    }

    /// <summary>The name to print for a call: its name, or syscall_0x1ff for an unknown number.</summary>
    public static string SyscallName(int nr) => SyscallTable.DisplayName(nr);

    /// <summary>
    /// What to copy from user memory at exit, for every call that needs anything (each spec is a fresh
    /// copy the caller may keep).
    /// </summary>
    public static IEnumerable<(int Nr, CaptureSpec Spec)> CaptureSpecs()
    {
        for (int nr = 0; nr < SyscallTable.MaxNr; nr++)
            if (SpecByNr[nr] is { } s)
                yield return (nr, Copy(s));
    }

    /// <summary>The capture spec of one call, or null when nothing is captured for it.</summary>
    public static CaptureSpec? CaptureSpecFor(int nr) =>
        nr is >= 0 and < SyscallTable.MaxNr && SpecByNr[nr] is { } s ? Copy(s) : null;

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
