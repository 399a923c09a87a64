namespace Whyfail.Decoding;

/// <summary>io_uring_setup (struct io_uring_params), io_uring_enter, io_uring_register.</summary>
internal static class IoUringFamily
{
    private static readonly StructLayout Params = Xlat.Struct("io_uring_params");
    private static readonly XlatTable Setup = Xlat.Table("io_uring_setup_flags");

    public static void Register(Registry r)
    {
        r.Add("io_uring_setup", c => [c.UDec32(0), ParamsArg(c, 1)], s => s.Fixed(1, Params.Size));
        r.Add("io_uring_enter", c => [c.Fd(0), c.UDec32(1), c.UDec32(2), c.Flags(3, "io_uring_enter_flags"), c.Ptr(4), c.UDec(5)]);
        // The argument's layout depends on the opcode: a fixed read covers the largest structure decoded
        // (rsrc structures with their extension bytes, io_uring_buf_reg, short fd and iovec arrays); one that
        // runs into an unmapped page keeps its readable prefix.
        // The rsrc structures' data and tags arrays are second-level copies (nested entries 0/1: rsrc_register's
        // layout, 2/3: rsrc_update2's); data is copied as iovecs, the larger of its two element types.
        r.Add("io_uring_register", c => [c.Fd(0), Opcode(c.UInt(1)), RegisterArg(c), c.UDec32(3)],
              s => s.Fixed(2, RegisterCapture)
                  .Nested(RegData, 2, RsrcReg.Off("data"), RsrcReg.Off("nr"), RsrcReg.SizeOf("nr"), IovecSize, ArrayCap)
                  .Nested(RegTags, 2, RsrcReg.Off("tags"), RsrcReg.Off("nr"), RsrcReg.SizeOf("nr"), TagSize, ArrayCap)
                  .Nested(UpdData, 2, RsrcUpd.Off("data"), RsrcUpd.Off("nr"), RsrcUpd.SizeOf("nr"), IovecSize, ArrayCap)
                  .Nested(UpdTags, 2, RsrcUpd.Off("tags"), RsrcUpd.Off("nr"), RsrcUpd.SizeOf("nr"), TagSize, ArrayCap));
    }

    private const int RegData = 0, RegTags = 1, UpdData = 2, UpdTags = 3;
    private const int IovecSize = 16, TagSize = 8, FdSize = 4;
    private const int ArrayCap = 1024;

    private const int RegisterCapture = 256;
    private static readonly StructLayout RsrcReg = Xlat.Struct("io_uring_rsrc_register");
    private static readonly StructLayout RsrcUpd = Xlat.Struct("io_uring_rsrc_update2");
    private static readonly StructLayout BufReg = Xlat.Struct("io_uring_buf_reg");

    private static string RegisterArg(Call c)
    {
        if (c[2] == 0) return "NULL";
        var ops = Xlat.Table("io_uring_register_ops");
        uint op = c.UInt(1);
        bool Is(string name) => ops.TryGetValue(name, out var v) && v == op;
        uint nargs = c.UInt(3);
        if (Is("IORING_REGISTER_FILES2") || Is("IORING_REGISTER_BUFFERS2"))
            return Rsrc(c, nargs, RsrcReg, (m, l) => RsrcRegisterFields(c, m, l, Is("IORING_REGISTER_FILES2")));
        if (Is("IORING_REGISTER_FILES_UPDATE2") || Is("IORING_REGISTER_BUFFERS_UPDATE"))
            return Rsrc(c, nargs, RsrcUpd, (m, l) => RsrcUpdateFields(c, m, l, Is("IORING_REGISTER_FILES_UPDATE2")));
        if (Is("IORING_REGISTER_PBUF_RING") || Is("IORING_UNREGISTER_PBUF_RING")) return BufRegArg(c);
        if (Is("IORING_REGISTER_FILES") || Is("IORING_REGISTER_EVENTFD") || Is("IORING_REGISTER_EVENTFD_ASYNC")) return FdArray(c, nargs);
        return c.Ptr(2);
    }

    /// <summary>
    /// io_uring_rsrc_register / io_uring_rsrc_update2, read by the size in nr_args as the kernel does (below
    /// their size: the pointer). Bytes past the structure: the non-zero ones, or <c>???</c> where unreadable.
    /// The data and tags arrays (second-level copies) element by element, as strace -v prints them.
    /// </summary>
    private static string Rsrc(Call c, uint size, StructLayout l, Func<Mem, StructLayout, List<string>> fields)
    {
        if (size < l.Size || !c.TryData(2, l.Size, out var d)) return c.Ptr(2);
        var f = fields(new Mem(d), l);
        f.AddRange(c.StructTail(2, l.Size, (int)Math.Min(size, int.MaxValue)));
        return Fmt.Struct(f);
    }

    private static List<string> RsrcRegisterFields(Call c, Mem m, StructLayout l, bool files)
    {
        uint nr = m.U32(l.Off("nr"));
        var f = new List<string>
        {
            "nr=" + Fmt.UInt(nr),
            "flags=" + Xlat.Table("io_uring_rsrc_register_flags").Flags(m.U32(l.Off("flags"))),
        };
        ulong resv2 = m.U64(l.Off("resv2"));
        if (resv2 != 0) f.Add("resv2=" + Fmt.Hex(resv2));
        f.Add("data=" + NestedArray(c, RegData, m.U64(l.Off("data")), nr, files ? FdSize : IovecSize, files ? FdItem : IovecItem));
        f.Add("tags=" + NestedArray(c, RegTags, m.U64(l.Off("tags")), nr, TagSize, TagItem));
        return f;
    }

    private static List<string> RsrcUpdateFields(Call c, Mem m, StructLayout l, bool files)
    {
        uint nr = m.U32(l.Off("nr"));
        var f = new List<string> { "offset=" + Fmt.UInt(m.U32(l.Off("offset"))) };
        uint resv = m.U32(l.Off("resv")), resv2 = m.U32(l.Off("resv2"));
        if (resv != 0) f.Add("resv=" + Fmt.Hex(resv));
        f.Add("data=" + NestedArray(c, UpdData, m.U64(l.Off("data")), nr, files ? FdSize : IovecSize, files ? UpdateFdItem : IovecItem));
        f.Add("tags=" + NestedArray(c, UpdTags, m.U64(l.Off("tags")), nr, TagSize, TagItem));
        f.Add("nr=" + Fmt.UInt(nr));
        if (resv2 != 0) f.Add("resv2=" + Fmt.Hex(resv2));
        return f;
    }

    private static string FdItem(Mem m, int at) => Fmt.Int(m.U32(at));

    /// <summary>IORING_REGISTER_FILES_UPDATE2's descriptors: below -1 by name (IORING_REGISTER_FILES_SKIP).</summary>
    private static string UpdateFdItem(Mem m, int at)
    {
        int fd = m.I32(at);
        return fd < -1 ? Xlat.Table("uring_files_update_fds").Value32((uint)fd, null, hex: false) : Fmt.Int((uint)fd);
    }

    private static string IovecItem(Mem m, int at) =>
        "{iov_base=" + Fmt.Ptr(m.U64(at)) + ", iov_len=" + Fmt.UDec(m.U64(at + 8)) + "}";

    private static string TagItem(Mem m, int at) => Fmt.Hex(m.U64(at));

    /// <summary>
    /// An array a copied structure points to (nested entry k), as strace's print_array shows it unabbreviated (-v):
    /// NULL, [] when empty, the address when its first element is unreadable, <c>... /* address */</c> where it
    /// becomes unreadable, <c>...</c> where the copy's cap ends.
    /// </summary>
    private static string NestedArray(Call c, int k, ulong addr, uint nr, int size, Func<Mem, int, string> item)
    {
        if (addr == 0) return "NULL";
        if (nr == 0) return "[]";
        if (addr + (ulong)nr * (ulong)size <= addr) return Fmt.Ptr(addr);
        var cap = c.Nested(2, k);
        if (cap?.Data is null) return Fmt.Ptr(addr);
        var m = new Mem(cap.Data);
        var items = new List<string>();
        for (long i = 0; i < nr; i++)
        {
            int at = (int)(i * size);
            if (!m.Has(at, size))
            {
                if (i == 0) return Fmt.Ptr(addr);
                items.Add(cap.Faulted ? "... /* " + Fmt.Ptr(addr + (ulong)at) + " */" : "...");
                break;
            }
            items.Add(item(m, at));
        }
        return Fmt.Array(items);
    }

    /// <summary>io_uring_buf_reg: {ring_addr=…, ring_entries=…, bgid=…}, pad and resv when set.</summary>
    private static string BufRegArg(Call c)
    {
        if (!c.TryData(2, BufReg.Size, out var d)) return c.Ptr(2);
        var m = new Mem(d);
        var f = new List<string>
        {
            "ring_addr=" + Fmt.Ptr(m.U64(BufReg.Off("ring_addr"))),
            "ring_entries=" + Fmt.UInt(m.U32(BufReg.Off("ring_entries"))),
            "bgid=" + Fmt.UInt(m.U16(BufReg.Off("bgid"))),
        };
        ushort pad = m.U16(BufReg.Off("pad"));
        if (pad != 0) f.Add("pad=" + Fmt.Hex(pad));
        int resv = BufReg.Off("resv"), n = BufReg.SizeOf("resv") / 8;
        var words = Enumerable.Range(0, n).Select(k => m.U64(resv + 8 * k)).ToArray();
        if (words.Any(w => w != 0)) f.Add("resv=" + Fmt.Array(words.Select(Fmt.Hex)));
        return Fmt.Struct(f);
    }

    /// <summary>An array of nr_args descriptors: [3, -1], cut with "..." where the capture ends.</summary>
    private static string FdArray(Call c, uint nr)
    {
        var d = c.Data(2);
        if (d is null || (nr > 0 && d.Length < 4)) return c.Ptr(2);
        var m = new Mem(d);
        int shown = (int)Math.Min(nr, (uint)(d.Length / 4));
        var items = Enumerable.Range(0, shown).Select(k => Fmt.Int(m.U32(4 * k))).ToList();
        if (shown < nr)
            items.Add(c.Cap(2)!.Faulted ? "... /* " + Fmt.Ptr(c[2] + (ulong)(4 * shown)) + " */" : "...");
        return Fmt.Array(items);
    }

    private static string Opcode(uint op)
    {
        ulong flag = Xlat.Table("io_uring_register_flags").ValueOr("IORING_REGISTER_USE_REGISTERED_RING", 0);
        var name = Xlat.Table("io_uring_register_ops").Value32(op & ~(uint)flag, "IORING_REGISTER_???");
        return (op & flag) != 0 ? name + "|IORING_REGISTER_USE_REGISTERED_RING" : name;
    }

    /// <summary>{flags=IORING_SETUP_SQPOLL, sq_thread_cpu=0, sq_thread_idle=1000}; the kernel rejects nonzero
    /// reserved words, so they are shown when set. The ring sizes and features are results.</summary>
    private static string ParamsArg(Call c, int i)
    {
        if (c[i] == 0) return "NULL";
        if (!c.TryData(i, Params.Size, out var d)) return c.Ptr(i);
        var m = new Mem(d);
        uint U(string f) => m.U32(Params.Off(f));
        uint flags = U("flags");
        var f = new List<string>
        {
            "flags=" + Setup.Flags(flags),
            "sq_thread_cpu=" + Fmt.UInt(U("sq_thread_cpu")),
            "sq_thread_idle=" + Fmt.UInt(U("sq_thread_idle")),
        };
        if ((flags & Setup["IORING_SETUP_CQSIZE"]) != 0 && !c.Ok) f.Add("cq_entries=" + Fmt.UInt(U("cq_entries")));
        if ((flags & Setup["IORING_SETUP_ATTACH_WQ"]) != 0) f.Add("wq_fd=" + Fmt.Int(U("wq_fd")));
        int resv = Params.Off("resv"), n = Params.SizeOf("resv") / 4;
        bool anyResv = false;
        for (int k = 0; k < n; k++) anyResv |= m.U32(resv + 4 * k) != 0;
        if (anyResv) f.Add("resv=" + Fmt.Array(Enumerable.Range(0, n).Select(k => Fmt.Hex(m.U32(resv + 4 * k)))));
        if (c.Ok)
        {
            f.Add("sq_entries=" + Fmt.UInt(U("sq_entries")));
            f.Add("cq_entries=" + Fmt.UInt(U("cq_entries")));
            f.Add("features=" + Xlat.Table("io_uring_features").Flags(U("features")));
        }
        return Fmt.Struct(f);
    }
}
