namespace Whyfail.Decoding;

/// <summary>execve, execveat: the program path and its argv as ["ls", "-l"].</summary>
internal static class ExecFamily
{
    /// <summary>Mirrors STRV_MAX and STRV_EACH in bpf/whyfail.bpf.c: argv elements copied, bytes per element.</summary>
    internal const int VectorMax = 8, VectorEach = 256;

    public static void Register(Registry r)
    {
        // filename (path) and argv (string vector) come from the declared types; envp stays a pointer.
        r.Add("execve", c => [c.Path(0), Argv(c, 1), c.Ptr(2)]);
        r.Add("execveat", c => [c.Dirfd(0), c.Path(1), Argv(c, 2), c.Ptr(3), c.Flags(4, "at_flags")]);
    }

    /// <summary>
    /// ["ls", "-l"]; ", ..." ends the list when it had more elements than were copied. The BPF side
    /// copies nothing when the array is unreadable, so an empty copy of a call that failed with EFAULT
    /// shows the pointer.
    /// </summary>
    internal static string Argv(Call c, int i)
    {
        if (c[i] == 0) return "NULL";
        var items = c.Ev.Vector(i).ToList();
        if (items.Count == 0)
            return c.Ev.Errno == Efault ? c.Ptr(i) : "[]";
        var parts = new List<string>(items.Count + 1);
        foreach (var it in items)
        {
            if (it.Data is null) { parts.Add("???"); continue; }
            bool cut = c.Ev.CaptureTruncated && it.Data.Length >= VectorEach - 1;
            parts.Add(StringEscaper.Quote(it.Data, c.Limit, cut));
        }
        if (items.Count >= VectorMax && c.Ev.CaptureTruncated) parts.Add("...");
        return Fmt.Array(parts);
    }

    private static readonly int Efault = Errno.TryParse("EFAULT", out var e) ? e : 14;
}
