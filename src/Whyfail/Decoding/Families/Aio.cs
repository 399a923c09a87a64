namespace Whyfail.Decoding;

/// <summary>
/// Linux AIO: io_getevents (its timeout), io_cancel (the struct iocb's header as strace shows it), io_destroy, io_submit.
/// The context is an address (aio_context_t); io_submit's iocb pointer array stays an address.
/// </summary>
internal static class AioFamily
{
    private static readonly StructLayout Iocb = Xlat.Struct("iocb");

    public static void Register(Registry r)
    {
        r.Add("io_getevents", c => [c.Ptr(0), c.LDec(1), c.LDec(2), c.Ptr(3), TimeFamily.Timespec(c, 4)],
              s => s.Fixed(4, TimeFamily.TimespecSize));
        r.Add("io_cancel", c => [c.Ptr(0), IocbHeader(c, 1), c.Ptr(2)], s => s.Fixed(1, Iocb.Size));
        r.Add("io_destroy", c => [c.Ptr(0)]);
        r.Add("io_submit", c => [c.Ptr(0), c.LDec(1), c.Ptr(2)]);
    }

    /// <summary>
    /// {aio_data=0x…, aio_key=…, aio_rw_flags=RWF_…, aio_lio_opcode=IOCB_CMD_PREAD, aio_reqprio=…, aio_fildes=-42}:
    /// aio_key and aio_rw_flags only when set, aio_reqprio as an I/O priority under IOCB_FLAG_IOPRIO, as a number when set.
    /// </summary>
    private static string IocbHeader(Call c, int i)
    {
        if (c[i] == 0) return "NULL";
        if (!c.TryData(i, Iocb.Size, out var d)) return c.Ptr(i);
        var m = new Mem(d);
        var f = new List<string> { "aio_data=" + Fmt.Hex(m.U64(Iocb.Off("aio_data"))) };
        uint key = m.U32(Iocb.Off("aio_key"));
        if (key != 0) f.Add("aio_key=" + Fmt.UInt(key));
        uint rw = m.U32(Iocb.Off("aio_rw_flags"));
        if (rw != 0) f.Add("aio_rw_flags=" + Xlat.Table("rwf_flags").Flags(rw));
        ushort op = m.U16(Iocb.Off("aio_lio_opcode"));
        f.Add("aio_lio_opcode=" + (Xlat.Table("aio_cmds").Lookup(op) ?? Fmt.UInt(op) + " /* IOCB_CMD_??? */"));
        ushort prio = m.U16(Iocb.Off("aio_reqprio"));
        if ((m.U32(Iocb.Off("aio_flags")) & (uint)Xlat.Table("aio_flags")["IOCB_FLAG_IOPRIO"]) != 0)
            f.Add("aio_reqprio=" + SysadminFamily.Ioprio(prio));
        else if (prio != 0)
            f.Add("aio_reqprio=" + Fmt.Dec((short)prio));
        f.Add("aio_fildes=" + Fmt.Int(m.U32(Iocb.Off("aio_fildes"))));
        return Fmt.Struct(f);
    }
}
