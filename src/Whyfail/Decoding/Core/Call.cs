using Whyfail.Events;

namespace Whyfail.Decoding;

/// <summary>
/// One event being decoded: its arguments, their captures, and strace's standard notations for
/// them. Every accessor tolerates missing, unreadable (null) and short captures.
/// </summary>
internal sealed class Call
{
    /// <summary>Argument names that hold a directory descriptor (AT_FDCWD is shown by name).</summary>
    private static readonly HashSet<string> DirfdNames = ["dfd", "olddfd", "newdfd", "from_dfd", "to_dfd", "dirfd"];
    private static readonly HashSet<string> FdNames =
        ["fd", "oldfd", "newfd", "fd_in", "fd_out", "epfd", "ufd", "pidfd", "group_fd", "mqdes", "fildes", "ruleset_fd", "fs_fd"];
    /// <summary>Integer arguments that are addresses.</summary>
    private static readonly HashSet<string> AddressNames =
        ["addr", "start", "brk", "new_addr", "uaddr", "newsp", "tls", "stack", "addr_hint", "shadow_stack", "child_stack"];
    private static readonly HashSet<string> PointerTypedefs = ["cap_user_header_t", "cap_user_data_t"];
    private static readonly HashSet<string> Signed32 =
        ["int", "pid_t", "key_t", "clockid_t", "mqd_t", "timer_t", "rwf_t", "__s32", "s32", "key_serial_t"];
    private static readonly HashSet<string> Unsigned32 = ["unsigned int", "unsigned", "u32", "__u32", "qid_t"];
    private static readonly HashSet<string> Signed64 = ["long", "loff_t", "off_t", "__s64", "s64", "time_t"];

    public Call(SyscallEvent ev, SyscallInfo? info, CaptureSpec? spec, int limit)
    {
        Ev = ev;
        Info = info;
        Spec = spec;
        Limit = limit;
    }

    public SyscallEvent Ev { get; }
    public SyscallInfo? Info { get; }
    public CaptureSpec? Spec { get; }
    public int Limit { get; }

    /// <summary>Whether the call succeeded (output structures hold results only then).</summary>
    public bool Ok => Ev.Ret >= 0;

    public ulong this[int i] => i >= 0 && i < Ev.Args.Length ? Ev.Args[i] : 0;
    public int Int(int i) => (int)(uint)this[i];
    public uint UInt(int i) => (uint)this[i];
    public long Long(int i) => (long)this[i];

    /// <summary>The capture of argument i (not a string vector), or null.</summary>
    public CapturedArg? Cap(int i)
    {
        foreach (var c in Ev.Captured)
            if (c.Arg == i && c.Kind is not (CaptureKind.StringVector or CaptureKind.Nested or CaptureKind.Entry)) return c;
        return null;
    }

    /// <summary>Argument i's first bytes as they were at sys_enter (before the kernel wrote back), or null.</summary>
    public byte[]? Entry(int i)
    {
        if (this[i] == 0) return null;
        foreach (var c in Ev.Captured)
            if (c.Arg == i && c.Kind == CaptureKind.Entry) return c.Data;
        return null;
    }

    /// <summary>
    /// The captured bytes of argument i as the program passed them: the exit copy with the entry copy (if any) over its
    /// first bytes, where the kernel may have written back (perf_event_attr.size, the capability header's version).
    /// </summary>
    public byte[]? AsPassed(int i)
    {
        var d = Data(i);
        var e = Entry(i);
        if (d is null || e is null) return d;
        var r = (byte[])d.Clone();
        e.AsSpan(0, Math.Min(e.Length, r.Length)).CopyTo(r);
        return r;
    }

    /// <summary>Whether the call failed with the named errno.</summary>
    public bool FailedWith(string errno) => Errno.TryParse(errno, out int e) && Ev.Errno == e;

    /// <summary>The second-level copy <paramref name="k"/> (memory a pointer inside argument i's structure points to), or null.</summary>
    public CapturedArg? Nested(int i, int k)
    {
        foreach (var c in Ev.Captured)
            if (c.Arg == i && c.Kind == CaptureKind.Nested && c.Index == k) return c;
        return null;
    }

    /// <summary>The captured bytes of argument i, or null (not captured, NULL pointer, or unreadable).</summary>
    public byte[]? Data(int i) => this[i] == 0 ? null : Cap(i)?.Data;

    /// <summary>The captured bytes when there are at least <paramref name="need"/> of them.</summary>
    public bool TryData(int i, int need, out byte[] data)
    {
        data = Data(i)!;
        return data is not null && data.Length >= need;
    }

    /// <summary>Whether a capture was cut at its cap (so "..." belongs after it).</summary>
    public bool Truncated(int i, CapturedArg c)
    {
        if (c.Data is null) return false;
        return c.Kind switch
        {
            // a string that filled its buffer: the kernel side looked at the byte after it (FullLength = the length when
            // that byte was its NUL: the string is whole, as a path of PATH_MAX - 1 bytes is)
            CaptureKind.String => Ev.CaptureTruncated && Spec is not null && Spec.Size[i] > 0 && c.Data.Length >= Spec.Size[i] - 1
                                  && c.FullLength != c.Data.Length,
            CaptureKind.Sized or CaptureKind.SizedByPointer => c.FullLength > c.Data.Length,
            _ => false,
        };
    }

    /// <summary>Whether the capture of argument i ran into an unreadable page (its data is the readable prefix).</summary>
    public bool Faulted(int i) => this[i] != 0 && Cap(i) is { Faulted: true };

    /// <summary>
    /// What an extensible structure (open_how, clone_args, sched_attr …) holds past the <paramref name="known"/>
    /// bytes decoded, as strace shows it: its non-zero bytes as <c>/* bytes N..M */ "\x.."</c>, and <c>???</c>
    /// when the size the program passed reaches into memory that could not be read. Empty otherwise.
    /// <paramref name="size"/>: the structure's size when the capture was not read by it (a fixed read).
    /// </summary>
    public IEnumerable<string> StructTail(int i, int known, int size = -1)
    {
        var c = Cap(i);
        if (this[i] == 0 || c?.Data is null) yield break;
        int full = size >= 0 ? size : c.FullLength;
        var d = c.Data.Length > full ? c.Data[..full] : c.Data;
        if (c.Faulted && full > Math.Max(d.Length, known))
        {
            yield return "???";
            yield break;
        }
        if (d.Length <= known || Array.TrueForAll(d[known..], b => b == 0)) yield break;
        var sb = new System.Text.StringBuilder();
        int shown = Math.Min(d.Length - known, Limit);
        for (int k = known; k < known + shown; k++)
            sb.Append("\\x").Append(d[k].ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
        bool cut = shown < d.Length - known || full > d.Length;
        yield return $"/* bytes {known}..{Math.Max(full, d.Length) - 1} */ \"{sb}\"" + (cut ? "..." : "");
    }

    public string Ptr(int i) => Fmt.Ptr(this[i]);
    public string Hex(int i) => Fmt.Hex(this[i]);
    public string Hex32(int i) => Fmt.Hex(UInt(i));
    public string Dec(int i) => Fmt.Int(this[i]);
    public string UDec(int i) => Fmt.UDec(this[i]);
    /// <summary>An unsigned int argument (the kernel reads 32 bits).</summary>
    public string UDec32(int i) => Fmt.UInt(this[i]);
    public string LDec(int i) => Fmt.Dec(Long(i));
    public string Fd(int i) => Fmt.Int(this[i]);
    /// <summary>A mode: the kernel reads a umode_t (16 bits) from the register.</summary>
    public string Octal(int i) => Fmt.Octal(this[i] & 0xffff);

    /// <summary>A directory descriptor: AT_FDCWD or the number.</summary>
    public string Dirfd(int i) => Xlat.Table("at_special").Value32(UInt(i), hex: false);

    /// <summary>A path argument: the whole captured string (not limited by -s, as strace does).</summary>
    public string Path(int i) => Quoted(i, int.MaxValue);

    /// <summary>A string argument, limited like strace's -s.</summary>
    public string Str(int i) => Quoted(i, Limit);

    private string Quoted(int i, int limit)
    {
        if (this[i] == 0) return "NULL";
        var c = Cap(i);
        if (c?.Data is null) return Ptr(i);
        // A string that ran into an unreadable page before its NUL: strace reads -s + 1 bytes of a string (a whole
        // path), so it shows the string cut at -s when that many were readable, the address otherwise.
        if (c.Faulted)
            return limit != int.MaxValue && c.Data.Length > limit ? StringEscaper.Quote(c.Data, limit, true) : Ptr(i);
        return StringEscaper.Quote(c.Data, limit, Truncated(i, c));
    }

    /// <summary>A data buffer (write, sendto) captured by length: shown as a string, limited.</summary>
    public string Buf(int i)
    {
        if (this[i] == 0) return "NULL";
        var c = Cap(i);
        if (c?.Data is null) return Ptr(i);
        return StringEscaper.Quote(c.Data, Limit, Truncated(i, c));
    }

    /// <summary>A pointer to one int (socklen_t *, int *): [16], or the pointer when it was not read.</summary>
    public string IntPtr(int i)
    {
        if (this[i] == 0) return "NULL";
        if (!TryData(i, 4, out var d)) return Ptr(i);
        return "[" + Fmt.Int(new Mem(d).U32(0)) + "]";
    }

    /// <summary>A flags argument decoded with a table (32-bit).</summary>
    public string Flags(int i, string table, string zero = "0") => Xlat.Table(table).Flags(UInt(i), zero);

    /// <summary>An enumeration argument decoded with a table (32-bit, sign-extended).</summary>
    public string Enum(int i, string table, string unknown) => Xlat.Table(table).Value32(UInt(i), unknown);

    /// <summary>
    /// The default notation of argument i from its declared C type: strings that were captured, pointers
    /// in hex or NULL, descriptors and signed integers in decimal, modes in octal, flags in hex.
    /// Arguments of calls with an unknown signature are shown in hex.
    /// </summary>
    public string Default(int i)
    {
        if (Info is null || !Info.ArgsKnown || i >= Info.Args.Count) return Hex(i);
        var a = Info.Args[i];
        var t = a.CType.StartsWith("const ", StringComparison.Ordinal) ? a.CType[6..] : a.CType;
        if (t.Contains('*') || PointerTypedefs.Contains(t))
        {
            var c = Cap(i);
            if (c is null || this[i] == 0 || c.Data is null) return Ptr(i);
            return c.Kind switch
            {
                CaptureKind.String => Quoted(i, Spec is not null && Spec.Size[i] >= CaptureSpec.PathSize ? int.MaxValue : Limit),
                CaptureKind.Sized or CaptureKind.SizedByPointer => Buf(i),
                _ => Ptr(i),
            };
        }
        if (DirfdNames.Contains(a.Name)) return Dirfd(i);
        if (FdNames.Contains(a.Name)) return Fd(i);
        if (t is "umode_t") return Octal(i);
        if (t is "mode_t") return Fmt.Octal(UInt(i));
        if (t is "uid_t" or "gid_t") return Fmt.Id(this[i]);
        bool is32 = Signed32.Contains(t) || Unsigned32.Contains(t);
        if (a.Name is "flags" or "flag" or "at_flags" or "mask") return is32 ? Hex32(i) : Hex(i);
        if (AddressNames.Contains(a.Name)) return Hex(i);
        if (Signed32.Contains(t)) return Dec(i);
        if (Unsigned32.Contains(t)) return Fmt.UInt(this[i]);
        if (Signed64.Contains(t)) return LDec(i);
        if (t is "unsigned long" or "size_t" or "u64" or "__u64" or "aio_context_t") return UDec(i);
        return Hex(i);
    }

    /// <summary>The default notation of the first <paramref name="n"/> arguments.</summary>
    public string[] Defaults(int n)
    {
        var r = new string[n];
        for (int i = 0; i < n; i++) r[i] = Default(i);
        return r;
    }

    /// <summary>The declared argument count (6 when unknown).</summary>
    public int ArgCount => Info is { ArgsKnown: true } ? Info.Args.Count : 6;

    /// <summary>All arguments in default notation, with some replaced.</summary>
    public string[] With(params (int Arg, string Text)[] overrides)
    {
        var r = Defaults(ArgCount);
        foreach (var (arg, text) in overrides)
            if (arg < r.Length) r[arg] = text;
        return r;
    }
}
