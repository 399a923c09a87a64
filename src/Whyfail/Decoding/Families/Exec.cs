namespace Whyfail.Decoding;

/// <summary>
/// execve, execveat: the program path, its argv as ["ls", "-l"], and envp as its address and the number of variables
/// (<c>0x7ffd… /* 23 vars */</c>, strace's notation without -v): the environment's strings are deliberately never copied,
/// so that no secret in it reaches whyfail's output; only its pointer array is read, to count them.
/// </summary>
internal static class ExecFamily
{
    /// <summary>Mirrors STRV_MAX and STRV_EACH in bpf/whyfail.bpf.c: argv elements copied, bytes per element.</summary>
    internal const int VectorMax = 128, VectorEach = 256;

    /// <summary>Bytes of envp's pointer array copied (512 pointers): enough to count the variables of most environments.</summary>
    internal const int EnvpCopied = 4096;

    public static void Register(Registry r)
    {
        // filename (path) and argv (string vector) come from the declared types.
        r.Add("execve", c => [c.Path(0), Argv(c, 1), Envp(c, 2)], s => s.Fixed(2, EnvpCopied));
        r.Add("execveat", c => [c.Dirfd(0), c.Path(1), Argv(c, 2), Envp(c, 3), c.Flags(4, "at_flags")], s => s.Fixed(3, EnvpCopied));
    }

    /// <summary>
    /// ["ls", "-l"]: an unreadable string by its address, "... /* address */" where the array itself runs into
    /// unreadable memory (the address when its first element does), ", ..." when it had more elements than were copied.
    /// </summary>
    internal static string Argv(Call c, int i)
    {
        if (c[i] == 0) return "NULL";
        var items = c.Ev.Vector(i).ToList();
        if (items.Count == 0)
            return c.Ev.Errno == Efault ? c.Ptr(i) : "[]";
        if (items[0] is { Data: null, Faulted: true }) return c.Ptr(i);
        var parts = new List<string>(items.Count + 1);
        bool ended = false;
        foreach (var it in items)
        {
            if (it.Data is null && it.Faulted)
            {
                parts.Add("... /* " + Fmt.Ptr(c[i] + 8 * (ulong)it.Index) + " */");
                ended = true;
                break;
            }
            if (it.Data is null) { parts.Add("???"); continue; }
            if (it.Faulted && it.Data.Length == 8) { parts.Add(Fmt.Ptr(BitConverter.ToUInt64(it.Data))); continue; }
            bool cut = c.Ev.CaptureTruncated && it.Data.Length >= VectorEach - 1;
            parts.Add(StringEscaper.Quote(it.Data, c.Limit, cut));
        }
        if (!ended && items.Count >= VectorMax && c.Ev.CaptureTruncated) parts.Add("...");
        return Fmt.Array(parts);
    }

    /// <summary>
    /// envp: its address and how many variables its pointer array holds before the NULL (the strings are not shown);
    /// "N vars, then unreadable memory" where the array runs into an unreadable page, "more than N vars" past the copy.
    /// </summary>
    internal static string Envp(Call c, int i)
    {
        if (c[i] == 0) return "NULL";
        var d = c.Data(i);
        if (d is null || d.Length < 8) return c.Ptr(i);
        var m = new Mem(d);
        int n = 0;
        for (; (n + 1) * 8 <= d.Length; n++)
            if (m.U64(n * 8) == 0)
                return c.Ptr(i) + " /* " + Vars(n) + " */";
        return c.Ptr(i) + (c.Faulted(i) ? " /* " + Vars(n) + ", then unreadable memory */" : " /* more than " + Vars(n) + " */");
    }

    private static string Vars(int n) => n + (n == 1 ? " var" : " vars");

    private static readonly int Efault = Errno.TryParse("EFAULT", out var e) ? e : 14;
}
