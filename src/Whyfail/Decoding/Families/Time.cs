namespace Whyfail.Decoding;

/// <summary>Clocks, sleeps and timers: clock_*, nanosleep, timer_create/settime, timerfd_*, eventfd*, get/setitimer, get/settimeofday.</summary>
internal static class TimeFamily
{
    private static readonly StructLayout Ts = Xlat.Struct("kernel_timespec");
    private static readonly StructLayout Its = Xlat.Struct("kernel_itimerspec");
    private static readonly StructLayout Tv = Xlat.Struct("kernel_old_timeval");
    private static readonly StructLayout Itv = Xlat.Struct("kernel_old_itimerval");
    private static readonly StructLayout Tz = Xlat.Struct("timezone");
    private static readonly StructLayout Pollfd = Xlat.Struct("pollfd");
    private static readonly StructLayout Sev = Xlat.Struct("sigevent");
    public static int TimevalSize => Tv.Size;
    public static int TimespecSize => Ts.Size;

    public static void Register(Registry r)
    {
        r.Add("clock_gettime clock_getres", c => [Clock(c, 0), c.Ptr(1)]);
        r.Add("clock_settime", c => [Clock(c, 0), Timespec(c, 1)], s => s.Fixed(1, Ts.Size));
        r.Add("clock_nanosleep", c => [Clock(c, 0), c.Flags(1, "timer_flags"), Timespec(c, 2), Remaining(c, 3)],
              s => s.Fixed(2, Ts.Size).Fixed(3, Ts.Size));
        r.Add("nanosleep", c => [Timespec(c, 0), Remaining(c, 1)], s => s.Fixed(0, Ts.Size).Fixed(1, Ts.Size));
        r.Add("timer_create", c => [Clock(c, 0), Sigevent(c, 1), c.Ptr(2)], s => s.Fixed(1, Sev.Size));
        r.Add("timer_settime", c => [c.Dec(0), c.Flags(1, "timer_flags"), Itimerspec(c, 2), c.Ptr(3)],
              s => s.Fixed(2, Its.Size));
        r.Add("timerfd_create", c => [Clock(c, 0), c.Flags(1, "timerfd_create_flags")]);
        r.Add("timerfd_settime", c => [c.Fd(0), c.Flags(1, "timerfd_settime_flags"), Itimerspec(c, 2), c.Ptr(3)],
              s => s.Fixed(2, Its.Size));
        r.Add("timerfd_gettime", c => [c.Fd(0), c.Ptr(1)]);
        // ppoll(fds, nfds, timeout, sigmask, sigsetsize): the pollfd array is not copied (its address shows).
        r.Add("ppoll", c => [Fmt.ArrayPtr(c[0], c.UInt(1)), c.UDec32(1), Timespec(c, 2), SignalFamily.Sigset(c, 3, 4), c.UDec(4)],
              s => s.Fixed(2, Ts.Size).Fixed(3, SignalFamily.SigsetSize));
        // pselect6(n, inp, outp, exp, tsp, sig): the fd_sets as pointers; the timeout as passed (the kernel writes the
        // time left back into it on the way out: the entry copy has the program's value); sig points to the kernel's
        // two-word {const sigset_t *ss; size_t ss_len} (fs/select.c, not in the UAPI headers), whose set is copied
        // through it (a second-level copy of ss_len bytes). The entry copy runs on every pselect6 of a traced task
        // (glibc's select() is pselect6): measured ~150-250 ns a call on a loaded host (2.3 us untraced, load 14).
        r.Add("pselect6", c => [c.Dec(0), c.Ptr(1), c.Ptr(2), c.Ptr(3), Timeout(c, 4), SigsetArgpack(c, 5)],
              s => s.Fixed(4, Ts.Size).Entry(4, Ts.Size).Fixed(5, 2 * sizeof(ulong))
                    .Nested(0, 5, 0, sizeof(ulong), sizeof(ulong), 1, SignalFamily.SigsetSize));
        // poll(fds, nfds, timeout): the pollfd array as far as it is readable (strace shows events for fd >= 0 only).
        r.Add("poll", c => [Arrays.Of(c, 0, c.UInt(1), Pollfd.Size, PollfdItem), c.UDec32(1), c.Dec(2)],
              s => s.Fixed(0, Arrays.Copied * Pollfd.Size));
        r.Add("clock_adjtime", c => [Clock(c, 0), c.Ptr(1)]);
        r.Add("getitimer", c => [c.Enum(0, "itimer_which", "ITIMER_???"), c.Ptr(1)]);
        r.Add("setitimer", c => [c.Enum(0, "itimer_which", "ITIMER_???"), Itimerval(c, 1), c.Ptr(2)],
              s => s.Fixed(1, Itv.Size));
        r.Add("settimeofday", c => [Timeval(c, 0), Timezone(c, 1)], s => s.Fixed(0, Tv.Size).Fixed(1, Tz.Size));
        r.Add("gettimeofday", c => [c.Ptr(0), c.Ptr(1)]);
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

    /// <summary>
    /// A sleep's remaining time: the kernel writes it only when a signal interrupts a relative sleep (it returns
    /// ERESTART_RESTARTBLOCK at exit, where the capture reads it); otherwise the pointer, as strace shows it.
    /// </summary>
    private static string Remaining(Call c, int i) =>
        c[i] != 0 && Errno.Name(c.Ev.KernelErrno) == "ERESTART_RESTARTBLOCK" ? Timespec(c, i) : c.Ptr(i);

    /// <summary>
    /// timer_create's struct sigevent: {sigev_value={sival_int=…, sival_ptr=…}, sigev_signo=SIGALRM, sigev_notify=SIGEV_SIGNAL}
    /// and the notification's own fields (the thread id; the function and attributes of SIGEV_THREAD). The signal is
    /// named only where the notification sends one; otherwise the number shows.
    /// </summary>
    private static string Sigevent(Call c, int i)
    {
        if (c[i] == 0) return "NULL";
        if (!c.TryData(i, Sev.End("sigev_notify"), out var d)) return c.Ptr(i);
        var m = new Mem(d);
        int value = Sev.Off("sigev_value");
        uint signo = m.U32(Sev.Off("sigev_signo")), notify = m.U32(Sev.Off("sigev_notify"));
        var table = Xlat.Table("sigev_notify");
        string? how = table.Lookup(notify);
        var f = new List<string>
        {
            $"sigev_value={{sival_int={Fmt.Int(m.U32(value))}, sival_ptr={Fmt.Ptr(m.U64(value))}}}",
            "sigev_signo=" + (how is "SIGEV_SIGNAL" or "SIGEV_THREAD" or "SIGEV_THREAD_ID" && Signals.Name((int)signo) is { } sn
                ? sn : Fmt.UInt(signo)),
            "sigev_notify=" + table.Value32(notify, "SIGEV_???"),
        };
        if (how == "SIGEV_THREAD_ID")
            f.Add("sigev_notify_thread_id=" + Fmt.Int(m.U32(Sev.Off("sigev_notify_thread_id"))));
        else if (how == "SIGEV_THREAD")
        {
            f.Add("sigev_notify_function=" + Fmt.Ptr(m.U64(Sev.Off("sigev_notify_function"))));
            f.Add("sigev_notify_attributes=" + Fmt.Ptr(m.U64(Sev.Off("sigev_notify_attributes"))));
        }
        return Fmt.Struct(f);
    }

    /// <summary>{fd=3, events=POLLIN|POLLOUT}; {fd=-1} (a negative descriptor is skipped: its events are not shown).</summary>
    private static string PollfdItem(Mem m, int at)
    {
        int fd = m.I32(at + Pollfd.Off("fd"));
        return fd < 0 ? $"{{fd={Fmt.Dec(fd)}}}"
            : Fmt.Struct(["fd=" + Fmt.Dec(fd), "events=" + Xlat.Table("poll_events").Flags(m.U16(at + Pollfd.Off("events")))]);
    }

    /// <summary>A timespec the kernel may rewrite before exit, as the program passed it (the entry copy when there is one).</summary>
    private static string Timeout(Call c, int i)
    {
        if (c[i] == 0) return "NULL";
        var d = c.AsPassed(i) ?? c.Entry(i);
        return d is not null && d.Length >= Ts.Size ? Timespec(new Mem(d), 0) : c.Ptr(i);
    }

    /// <summary>pselect6's {sigmask=[HUP CHLD], sigsetsize=8}: the set read through the structure's pointer.</summary>
    private static string SigsetArgpack(Call c, int i)
    {
        if (c[i] == 0) return "NULL";
        if (!c.TryData(i, 2 * sizeof(ulong), out var d)) return c.Ptr(i);
        var m = new Mem(d);
        ulong ss = m.U64(0), len = m.U64(sizeof(ulong));
        string set = ss == 0 ? "NULL"
            : len == (ulong)SignalFamily.SigsetSize && c.Nested(i, 0)?.Data is { Length: >= SignalFamily.SigsetSize } b
                ? Signals.FormatSet(b.AsSpan(0, SignalFamily.SigsetSize)) : Fmt.Ptr(ss);
        return Fmt.Struct(["sigmask=" + set, "sigsetsize=" + Fmt.UDec(len)]);
    }

    /// <summary>{tv_sec=1, tv_nsec=500000000}: tv_nsec unsigned, as strace prints it (an invalid negative one is huge).</summary>
    public static string Timespec(Mem m, int off) =>
        $"{{tv_sec={Fmt.Dec(m.I64(off + Ts.Off("tv_sec")))}, tv_nsec={Fmt.UDec(m.U64(off + Ts.Off("tv_nsec")))}}}";

    /// <summary>A timespec with strace's calendar comment when it is a valid time: {tv_sec=…, tv_nsec=…} /* 2017-04-16T… */.</summary>
    public static string TimespecDated(Mem m, int off)
    {
        long sec = m.I64(off + Ts.Off("tv_sec"));
        var when = Arrays.Calendar(sec, m.U64(off + Ts.Off("tv_nsec")), 999999999, 9);
        return Timespec(m, off) + (when is null ? "" : $" /* {when} */");
    }

    /// <summary>{tv_sec=1, tv_usec=2} (struct __kernel_old_timeval; tv_usec unsigned, as strace prints it).</summary>
    public static string Timeval(Mem m, int off) =>
        $"{{tv_sec={Fmt.Dec(m.I64(off + Tv.Off("tv_sec")))}, tv_usec={Fmt.UDec(m.U64(off + Tv.Off("tv_usec")))}}}";

    /// <summary>A timeval with strace's calendar comment when it is a valid time.</summary>
    public static string TimevalDated(Mem m, int off)
    {
        var when = Arrays.Calendar(m.I64(off + Tv.Off("tv_sec")), m.U64(off + Tv.Off("tv_usec")), 999999, 6);
        return Timeval(m, off) + (when is null ? "" : $" /* {when} */");
    }

    private static string Timeval(Call c, int i)
    {
        if (c[i] == 0) return "NULL";
        if (!c.TryData(i, Tv.Size, out var d)) return c.Ptr(i);
        return Timeval(new Mem(d), 0);
    }

    /// <summary>{tz_minuteswest=0, tz_dsttime=0}</summary>
    private static string Timezone(Call c, int i)
    {
        if (c[i] == 0) return "NULL";
        if (!c.TryData(i, Tz.Size, out var d)) return c.Ptr(i);
        var m = new Mem(d);
        return $"{{tz_minuteswest={Fmt.Dec(m.I32(Tz.Off("tz_minuteswest")))}, tz_dsttime={Fmt.Dec(m.I32(Tz.Off("tz_dsttime")))}}}";
    }

    /// <summary>{it_interval={tv_sec=0, tv_usec=0}, it_value={tv_sec=1, tv_usec=0}}</summary>
    private static string Itimerval(Call c, int i)
    {
        if (c[i] == 0) return "NULL";
        if (!c.TryData(i, Itv.Size, out var d)) return c.Ptr(i);
        var m = new Mem(d);
        return Fmt.Struct([
            "it_interval=" + Timeval(m, Itv.Off("it_interval")),
            "it_value=" + Timeval(m, Itv.Off("it_value")),
        ]);
    }

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
