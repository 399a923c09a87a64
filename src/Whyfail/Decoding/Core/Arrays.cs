namespace Whyfail.Decoding;

/// <summary>strace's print_array for an argument that points to <c>count</c> elements, and the calendar comment of its time stamps.</summary>
internal static class Arrays
{
    /// <summary>
    /// Argument <paramref name="i"/> as an array of <paramref name="count"/> elements of <paramref name="size"/> bytes, captured
    /// Fixed from its start: NULL, [] when empty, the address when its first element was not read, the elements read,
    /// <c>... /* address */</c> where the memory became unreadable, <c>...</c> where the copy's cap
    /// ends (strace -v shows every element).
    /// </summary>
    public static string Of(Call c, int i, ulong count, int size, Func<Mem, int, string> item)
    {
        ulong addr = c[i];
        if (addr == 0) return "NULL";
        if (count == 0) return "[]";
        // A count whose byte size wraps around the address space: strace shows the address.
        if (count > ulong.MaxValue / (ulong)size || addr + count * (ulong)size < addr) return Fmt.Ptr(addr);
        var cap = c.Cap(i);
        if (cap?.Data is null || cap.Data.Length < size) return Fmt.Ptr(addr);
        var m = new Mem(cap.Data);
        var items = new List<string>();
        for (ulong k = 0; k < count; k++)
        {
            int at = (int)k * size;
            if (!m.Has(at, size))
            {
                items.Add(cap.Faulted ? "... /* " + Fmt.Ptr(addr + (ulong)at) + " */" : "...");
                break;
            }
            items.Add(item(m, at));
        }
        return Fmt.Array(items);
    }

    /// <summary>Elements copied of an array argument read by its count (strace shows as many as -s).</summary>
    public const int Copied = 32;

    /// <summary>Argument <paramref name="i"/> as <paramref name="count"/> iovecs, each shown by address and length.</summary>
    public static string Iovecs(Call c, int i, ulong count) => Of(c, i, count, IovecSize, IovecPtr);

    /// <summary>{iov_base=0x7f…, iov_len=8}: an iovec whose data is not shown (a failed read's buffer, a remote address).</summary>
    public static string IovecPtr(Mem m, int at) =>
        "{iov_base=" + Fmt.Ptr(m.U64(at)) + ", iov_len=" + Fmt.UDec(m.U64(at + 8)) + "}";

    /// <summary>
    /// Argument <paramref name="i"/> as <paramref name="count"/> iovecs a call writes: each shown with its data, as strace
    /// shows a write's buffers ({iov_base="abc", iov_len=3}), for the first <see cref="CaptureSpec.MaxNested"/> elements
    /// (their data is copied by the nested entries <see cref="WrittenIovecSpec"/> asks for); the address where the data
    /// could not be read (an element beyond those, an unreadable buffer).
    /// </summary>
    public static string WrittenIovecs(Call c, int i, ulong count) => Of(c, i, count, IovecSize, (m, at) =>
    {
        int k = at / IovecSize;
        ulong len = m.U64(at + 8);
        var d = k < CaptureSpec.MaxNested ? c.Nested(i, k) : null;
        string data = len == 0 ? "\"\""
            : d?.Data is null || (d.Faulted && d.Data.Length <= c.Limit) ? Fmt.Ptr(m.U64(at))
            : StringEscaper.Quote(d.Data, c.Limit, (ulong)d.Data.Length < len);
        return "{iov_base=" + data + ", iov_len=" + Fmt.UDec(len) + "}";
    });

    /// <summary>
    /// The capture <see cref="WrittenIovecs"/> needs for argument <paramref name="arg"/>: the iovec array (read by its
    /// count, <see cref="Copied"/> at most), and the data of its first <see cref="CaptureSpec.MaxNested"/> elements
    /// (<see cref="CaptureSpec.BufferSize"/> bytes each at most), copied where each element points.
    /// </summary>
    public static CaptureSpec WrittenIovecSpec(CaptureSpec s, int arg)
    {
        s.Fixed(arg, Copied * IovecSize);
        for (int k = 0; k < CaptureSpec.MaxNested; k++)
            s.Nested(k, arg, k * IovecSize, k * IovecSize + 8, 8, 1, CaptureSpec.BufferSize);
        return s;
    }

    /// <summary>sizeof(struct iovec) on x86_64.</summary>
    public const int IovecSize = 16;

    /// <summary>
    /// strace's sprinttime_ex: the calendar time of <paramref name="sec"/> and a fraction of <paramref name="width"/> digits
    /// in the local time zone (2017-04-16T16:05:06.123456789+0000), or null where strace prints none (both zero, an
    /// out-of-range fraction, a year outside 1..9999).
    /// </summary>
    public static string? Calendar(long sec, ulong part, ulong maxPart, int width)
    {
        if ((sec == 0 && part == 0) || part > maxPart) return null;
        if (sec < -62135596800L || sec > 253402300799L) return null;
        var utc = DateTimeOffset.FromUnixTimeSeconds(sec);
        var off = TimeZoneInfo.Local.GetUtcOffset(utc);
        var local = utc.ToOffset(off);
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        var s = local.ToString("yyyy-MM-dd'T'HH:mm:ss", inv);
        if (part > 0) s += "." + part.ToString(inv).PadLeft(width, '0');
        int mins = (int)Math.Abs(off.TotalMinutes);
        return s + (off < TimeSpan.Zero ? "-" : "+") + (mins / 60).ToString("00", inv) + (mins % 60).ToString("00", inv);
    }
}
