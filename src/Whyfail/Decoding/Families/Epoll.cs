namespace Whyfail.Decoding;

/// <summary>epoll_create, epoll_create1, epoll_ctl (struct epoll_event), epoll_wait, epoll_pwait, epoll_pwait2.</summary>
internal static class EpollFamily
{
    private static readonly StructLayout Event = Xlat.Struct("epoll_event");

    public static void Register(Registry r)
    {
        r.Add("epoll_create", c => [c.Dec(0)]);
        r.Add("epoll_create1", c => [c.Flags(0, "epoll_create_flags")]);
        r.Add("epoll_ctl", c => [c.Fd(0), c.Enum(1, "epoll_ctl_ops", "EPOLL_CTL_???"), c.Fd(2), EventArg(c, 3)],
              s => s.Fixed(3, Event.Size));
        r.Add("epoll_wait", c => [c.Fd(0), c.Ptr(1), c.Dec(2), c.Dec(3)]);
        r.Add("epoll_pwait", c => [c.Fd(0), c.Ptr(1), c.Dec(2), c.Dec(3), SignalFamily.Sigset(c, 4, 5), c.UDec(5)],
              s => s.Fixed(4, SignalFamily.SigsetSize));
        r.Add("epoll_pwait2", c => [c.Fd(0), c.Ptr(1), c.Dec(2), TimeFamily.Timespec(c, 3), SignalFamily.Sigset(c, 4, 5), c.UDec(5)],
              s => s.Fixed(3, TimeFamily.TimespecSize).Fixed(4, SignalFamily.SigsetSize));
    }

    /// <summary>{events=EPOLLIN|EPOLLET, data={u32=3, u64=3}} (the struct is packed on x86_64).</summary>
    private static string EventArg(Call c, int i)
    {
        if (c[i] == 0) return "NULL";
        if (!c.TryData(i, Event.Size, out var d)) return c.Ptr(i);
        var m = new Mem(d);
        ulong data = m.U64(Event.Off("data"));
        return Fmt.Struct([
            "events=" + Xlat.Table("epoll_events").Flags(m.U32(Event.Off("events"))),
            $"data={{u32={Fmt.UInt(data)}, u64={Fmt.UDec(data)}}}",
        ]);
    }
}
