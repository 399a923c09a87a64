namespace Whyfail.Decoding;

/// <summary>Clocks, sleeps and timers: clock_*, nanosleep, timer_create/settime, timerfd_*, eventfd*.</summary>
internal static class TimeFamily
{
    private static readonly StructLayout Ts = Xlat.Struct("kernel_timespec");
    private static readonly StructLayout Its = Xlat.Struct("kernel_itimerspec");
    public static int TimespecSize => Ts.Size;

    public static void Register(Registry r)
    {
        r.Add("clock_gettime clock_getres", c => [Clock(c, 0), c.Ptr(1)]);
        r.Add("clock_settime", c => [Clock(c, 0), Timespec(c, 1)], s => s.Fixed(1, Ts.Size));
        r.Add("clock_nanosleep", c => [Clock(c, 0), c.Flags(1, "timer_flags"), Timespec(c, 2), c.Ptr(3)],
              s => s.Fixed(2, Ts.Size));
        r.Add("nanosleep", c => [Timespec(c, 0), c.Ptr(1)], s => s.Fixed(0, Ts.Size));
        r.Add("timer_create", c => [Clock(c, 0), c.Ptr(1), c.Ptr(2)]);
        r.Add("timer_settime", c => [c.Dec(0), c.Flags(1, "timer_flags"), Itimerspec(c, 2), c.Ptr(3)],
              s => s.Fixed(2, Its.Size));
        r.Add("timerfd_create", c => [Clock(c, 0), c.Flags(1, "timerfd_create_flags")]);
        r.Add("timerfd_settime", c => [c.Fd(0), c.Flags(1, "timerfd_settime_flags"), Itimerspec(c, 2), c.Ptr(3)],
              s => s.Fixed(2, Its.Size));
        r.Add("timerfd_gettime", c => [c.Fd(0), c.Ptr(1)]);
        r.Add("eventfd", c => [c.UDec(0)]);
        r.Add("eventfd2", c => [c.UDec(0), c.Flags(1, "eventfd_flags")]);
    }

    public static string Clock(Call c, int i) => Xlat.Table("clock_ids").Value32(c.UInt(i), "CLOCK_???", hex: false);

    /// <summary>{tv_sec=1, tv_nsec=500000000}, NULL, or the pointer when it was not read.</summary>
    public static string Timespec(Call c, int i)
    {
        if (c[i] == 0) return "NULL";
        if (!c.TryData(i, Ts.Size, out var d)) return c.Ptr(i);
        return Timespec(new Mem(d), 0);
    }

    public static string Timespec(Mem m, int off) =>
        $"{{tv_sec={Fmt.Dec(m.I64(off + Ts.Off("tv_sec")))}, tv_nsec={Fmt.Dec(m.I64(off + Ts.Off("tv_nsec")))}}}";

    /// <summary>{it_interval={tv_sec=0, tv_nsec=0}, it_value={tv_sec=1, tv_nsec=0}}</summary>
    public static string Itimerspec(Call c, int i)
    {
        if (c[i] == 0) return "NULL";
        if (!c.TryData(i, Its.Size, out var d)) return c.Ptr(i);
        var m = new Mem(d);
        return Fmt.Struct([
            "it_interval=" + Timespec(m, Its.Off("it_interval")),
            "it_value=" + Timespec(m, Its.Off("it_value")),
        ]);
    }
}
