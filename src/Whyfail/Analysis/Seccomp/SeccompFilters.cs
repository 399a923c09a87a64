using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Whyfail.Capture.Native;
using static Whyfail.Errnos;
using static Whyfail.Capture.Native.Libc;

namespace Whyfail.Analysis.Seccomp;

/// <summary>The seccomp lines of /proc/PID/task/TID/status.</summary>
/// <param name="Mode">Seccomp: 0 none, 1 strict, 2 filter.</param>
/// <param name="FilterCount">Seccomp_filters (kernel 5.9+), or null when the kernel does not show it.</param>
/// <param name="TracerPid">TracerPid: the thread's ptrace tracer, 0 for none.</param>
public sealed record SeccompStatus(int Mode, int? FilterCount, int TracerPid, int Tgid, int PPid)
{
    public static SeccompStatus? Read(int pid, int tid)
    {
        string? text;
        try { text = File.ReadAllText($"/proc/{pid}/task/{tid}/status"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
        return Parse(text);
    }

    public static SeccompStatus Parse(string status)
    {
        int mode = 0, tracer = 0, tgid = 0, ppid = 0;
        int? count = null;
        foreach (var line in status.Split('\n'))
        {
            int colon = line.IndexOf(':');
            if (colon <= 0) continue;
            var key = line.AsSpan(0, colon);
            if (!int.TryParse(line.AsSpan(colon + 1).Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v)) continue;
            switch (key)
            {
                case "Seccomp": mode = v; break;
                case "Seccomp_filters": count = v; break;
                case "TracerPid": tracer = v; break;
                case "Tgid": tgid = v; break;
                case "PPid": ppid = v; break;
            }
        }
        return new SeccompStatus(mode, count, tracer, tgid, ppid);
    }
}

/// <summary>A thread's seccomp filters, or why they could not be read.</summary>
/// <param name="Filters">Installation order (index 0 was installed first); null when not read.</param>
/// <param name="Error">Why they could not be read (a clause, e.g. "whyfail lacks CAP_SYS_ADMIN, which …").</param>
/// <param name="Stopped">From asking the thread to stop to letting it go (an upper bound of the time it was held in the
/// ptrace stop; zero when the read came from the cache).</param>
/// <param name="Cached">The filters were read earlier for the same thread and the filter count has not changed.</param>
public sealed record SeccompFetch(int Pid, int Tid, IReadOnlyList<ClassicBpf>? Filters, string? Error, TimeSpan Stopped, bool Cached = false)
{
    public bool Ok => Filters != null;
}

/// <summary>
/// Reads the seccomp filter programs of another thread. Linux shows only the mode and the number of filters in
/// /proc (Seccomp, Seccomp_filters in /proc/PID/status); the programs themselves are only handed out through
/// ptrace(PTRACE_SECCOMP_GET_FILTER), which needs CAP_SYS_ADMIN, a tracer that is not itself under seccomp, a kernel
/// built with CONFIG_CHECKPOINT_RESTORE, and the thread attached and in a ptrace stop. So this: PTRACE_SEIZE (does not
/// stop it), PTRACE_INTERRUPT, waits for the stop, copies every filter (index 0 = installed first, until ENOENT), and
/// PTRACE_DETACH — the thread is held for about a millisecond at most, normally. The attachment lives on a short-lived
/// thread of its own: ptrace ties a tracee to the tracer *thread*, and the kernel detaches everything a thread traced
/// when it exits, so no path can leave the process attached. Filters are cached per thread (tid and start time);
/// a thread's filters can only be added to, so the cache is reused while Seccomp_filters is unchanged.
/// </summary>
public static partial class SeccompFilters
{
    /// <summary>When false, no process is ever stopped (reads fail with a reason).</summary>
    public static bool StopAllowed { get; set; } = true;

    /// <summary>How long to wait for the thread to reach the ptrace stop (it stops at once unless in an uninterruptible sleep).</summary>
    public static TimeSpan StopTimeout { get; set; } = TimeSpan.FromSeconds(2);

    private sealed record Entry(int? Count, SeccompFetch Fetch);
    private static readonly Dictionary<(int Tid, long Start), Entry> cache = [];
    private static readonly Lock cacheLock = new();
    private const int CacheLimit = 4096;

    /// <summary>Forgets every cached read (tests).</summary>
    public static void ClearCache()
    {
        lock (cacheLock) cache.Clear();
    }

    /// <summary>The filters of thread <paramref name="tid"/> of process <paramref name="pid"/>, from the cache when still valid.</summary>
    public static SeccompFetch Get(int pid, int tid)
    {
        if (tid <= 0) tid = pid;
        var st = SeccompStatus.Read(pid, tid);
        if (st is null) return Fail(pid, tid, $"thread {tid} of pid {pid} is gone");
        if (st.Mode != 2) return Fail(pid, tid, st.Mode == 1 ? "the thread is in strict seccomp mode (no filters)" : "the thread has no seccomp filter");
        long start = StartTime(pid, tid);
        var key = (tid, start);
        lock (cacheLock)
        {
            if (start > 0 && cache.TryGetValue(key, out var e) && e.Count == st.FilterCount)
                return e.Fetch with { Stopped = TimeSpan.Zero, Cached = true };
        }

        var (fetch, keep) = Fetch(pid, tid, st);
        if (keep && start > 0)
        {
            lock (cacheLock)
            {
                if (cache.Count >= CacheLimit) cache.Clear();
                cache[key] = new Entry(st.FilterCount, fetch);
            }
        }
        return fetch;
    }

    private static SeccompFetch Fail(int pid, int tid, string why) => new(pid, tid, null, why, TimeSpan.Zero);

    // Returns the read and whether it may be cached (not when the obstacle may go away: another tracer, a timeout).
    private static (SeccompFetch, bool) Fetch(int pid, int tid, SeccompStatus st)
    {
        int self = Environment.ProcessId;
        if (st.Tgid == self) return (Fail(pid, tid, "it is whyfail's own process, which cannot trace itself"), true);
        if (!StopAllowed) return (Fail(pid, tid, "stopping traced processes to read their seccomp filters is turned off"), false);
        var me = SeccompStatus.Read(self, self);
        if (me is { Mode: not 0 })
            return (Fail(pid, tid, $"whyfail itself runs under seccomp (mode {me.Mode}), and the kernel hands seccomp filters only to an unconfined tracer"), true);
        if (!HasSysAdmin())
            return (Fail(pid, tid, "whyfail lacks CAP_SYS_ADMIN, which reading another process's seccomp filters (ptrace PTRACE_SECCOMP_GET_FILTER) needs"), true);
        if (st.TracerPid != 0)
            return (Fail(pid, tid, $"thread {tid} is already traced by pid {st.TracerPid}{Comm(st.TracerPid)}, and a thread can have only one tracer, so whyfail could not attach to read its filters"), false);
        if (tid == pid && st.PPid == self)
            // .NET reaps its child processes with waitpid(pid, WNOHANG) on every SIGCHLD; for a child that this process
            // also traces that call reports the ptrace stop, and .NET would take it for the child's exit.
            // (The command of `whyfail -- CMD` is not such a child: the launcher forks it, see Launcher.RunLauncher.)
            return (Fail(pid, tid, $"pid {pid} is whyfail's own child, and stopping that one with ptrace would confuse the .NET runtime's tracking of its child processes"), true);

        var result = new Attach();
        var worker = new Thread(() => result = AttachAndRead(tid), 256 * 1024) { IsBackground = true, Name = "whyfail seccomp read" };
        worker.Start();
        if (!worker.Join(StopTimeout + TimeSpan.FromSeconds(3)))
            return (Fail(pid, tid, "reading the filters did not finish in time"), false);

        if (result.Error != null) return (Fail(pid, tid, result.Error) with { Stopped = result.Stopped }, result.Cacheable);
        var programs = new List<ClassicBpf>(result.Programs!.Count);
        for (int i = 0; i < result.Programs.Count; i++)
        {
            try { programs.Add(ClassicBpf.Parse(result.Programs[i])); }
            catch (BpfProgramException e)
            {
                return (Fail(pid, tid, $"filter {i + 1} of {result.Programs.Count} is not a program whyfail can run: {e.Message}") with { Stopped = result.Stopped }, true);
            }
        }
        return (new SeccompFetch(pid, tid, programs, null, result.Stopped), true);
    }

    private sealed class Attach
    {
        public List<byte[]>? Programs;
        public string? Error;
        public bool Cacheable;
        public TimeSpan Stopped;
    }

    /// <summary>More filters than a thread can hold (the kernel caps a thread's filters at 32768 instructions in all).</summary>
    private const int MaxFilters = 8192;

    // Runs on its own thread: every ptrace request must come from the thread that attached.
    /// <summary>
    /// Seizes the thread, interrupts it, waits for the stop, copies every filter, and detaches (handing back a
    /// signal the stop had intercepted). Each step sets <see cref="Attach.Error"/> when it fails.
    /// </summary>
    private static Attach AttachAndRead(int tid)
    {
        var r = new Attach();
        if (!Seized(tid, r)) return r;
        var clock = Stopwatch.StartNew();
        int inject = 0;
        bool stopped = false;
        try
        {
            if (Libc.Ptrace(PTRACE_INTERRUPT, tid, 0, 0) != 0)
            {
                r.Error = $"ptrace(PTRACE_INTERRUPT) on thread {tid} failed with errno {Marshal.GetLastPInvokeError()}";
                return r;
            }
            if (!(stopped = Stopped(tid, clock, r))) return r;
            inject = InterceptedSignal(tid);
            r.Programs = ReadFilters(tid, r);
            return r;
        }
        finally
        {
            // Detaching needs the thread stopped; if it never stopped, this thread's exit detaches it instead.
            if (stopped) Libc.Ptrace(PTRACE_DETACH, tid, 0, inject);
            r.Stopped = clock.Elapsed;
        }
    }

    /// <summary>PTRACE_SEIZE of the thread; false, with the reason in <paramref name="r"/>, when refused.</summary>
    private static bool Seized(int tid, Attach r)
    {
        if (Libc.Ptrace(PTRACE_SEIZE, tid, 0, 0) == 0) return true;
        int e = Marshal.GetLastPInvokeError();
        r.Error = e switch
        {
            ESRCH => $"thread {tid} exited before whyfail could attach to it",
            EPERM => $"the kernel refused to let whyfail attach to thread {tid} with ptrace (EPERM: another tracer attached first, or a security module such as Yama or SELinux forbids it)",
            _ => $"ptrace(PTRACE_SEIZE) on thread {tid} failed with errno {e}",
        };
        r.Cacheable = false;
        return false;
    }

    /// <summary>Waits, up to <see cref="StopTimeout"/>, until the interrupted thread is in a ptrace stop.</summary>
    private static unsafe bool Stopped(int tid, Stopwatch clock, Attach r)
    {
        int status = 0;
        while (true)
        {
            int w = Libc.WaitPid(tid, &status, __WALL | WNOHANG);
            if (w == tid)
            {
                if ((status & 0xff) == 0x7f) return true;
                // Not WIFSTOPPED: WIFEXITED or WIFSIGNALED, it died meanwhile.
                r.Error = $"thread {tid} exited while whyfail was reading its filters";
                return false;
            }
            if (w < 0)
            {
                int e = Marshal.GetLastPInvokeError();
                if (e == EINTR) continue;
                r.Error = $"waiting for thread {tid} to stop failed with errno {e}";
                return false;
            }
            // Someone else's waitpid(-1) may have taken the stop report (.NET reaps that way when whyfail was
            // started with SIGCHLD ignored); the thread is stopped all the same, which is all ptrace needs.
            if (clock.Elapsed > TimeSpan.FromMilliseconds(1) && InTracingStop(tid)) return true;
            if (clock.Elapsed > StopTimeout)
            {
                r.Error = $"thread {tid} did not stop within {StopTimeout.TotalSeconds:0.#} s (it is probably in an uninterruptible sleep)";
                return false;
            }
            if (clock.Elapsed < TimeSpan.FromMilliseconds(2)) Thread.Yield();
            else Thread.Sleep(1);
        }
    }

    /// <summary>
    /// The signal a signal-delivery stop intercepted, to hand back on detach (a signal-delivery stop is a ptrace
    /// stop too); 0 for our interrupt and group stops (SIGSTOP, …), which are PTRACE_EVENT_STOP traps.
    /// </summary>
    private static unsafe int InterceptedSignal(int tid)
    {
        byte* si = stackalloc byte[128];
        return Libc.Ptrace(PTRACE_GETSIGINFO, tid, 0, (nint)si) == 0 && (*(int*)(si + 8) >> 8) != PTRACE_EVENT_STOP
            ? *(int*)si : 0;
    }

    /// <summary>
    /// Copies the stopped thread's filters, one PTRACE_SECCOMP_GET_FILTER each (the kernel writes the whole program,
    /// at most 4096 instructions, and returns its length); null, with the reason in <paramref name="r"/>, on failure.
    /// </summary>
    private static unsafe List<byte[]>? ReadFilters(int tid, Attach r)
    {
        var buf = new byte[ClassicBpf.MaxInstructions * 8];
        var programs = new List<byte[]>();
        fixed (byte* b = buf)
        {
            for (int i = 0; i < MaxFilters; i++)
            {
                nint n = Libc.Ptrace(PTRACE_SECCOMP_GET_FILTER, tid, i, (nint)b);
                if (n < 0)
                {
                    int e = Marshal.GetLastPInvokeError();
                    if (e == ENOENT && i > 0) break;
                    r.Error = e switch
                    {
                        ENOENT => "the kernel says the thread has no seccomp filters",
                        EACCES => "the kernel refused to hand out the filters (EACCES: whyfail needs CAP_SYS_ADMIN and must not be under seccomp itself)",
                        EINVAL => "the kernel cannot hand out seccomp filters (EINVAL: built without CONFIG_CHECKPOINT_RESTORE, or the thread left filter mode)",
                        EMEDIUMTYPE => $"filter {i + 1} is not a classic BPF program (EMEDIUMTYPE)",
                        _ => $"ptrace(PTRACE_SECCOMP_GET_FILTER) failed with errno {e}",
                    };
                    r.Cacheable = e is EACCES or EINVAL or EMEDIUMTYPE;
                    return null;
                }
                if (n == 0 || n > ClassicBpf.MaxInstructions)
                {
                    r.Error = $"the kernel reported {n} instructions for filter {i + 1}";
                    return null;
                }
                programs.Add(buf.AsSpan(0, (int)n * 8).ToArray());
            }
        }
        return programs;
    }

    /// <summary>/proc/TID/stat shows the thread in a ptrace stop (state t).</summary>
    private static bool InTracingStop(int tid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{tid}/stat");
            int close = stat.LastIndexOf(')');
            return close > 0 && close + 2 < stat.Length && stat[close + 2] == 't';
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
    }

    private static bool HasSysAdmin()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith("CapEff:", StringComparison.Ordinal))
                    return ulong.TryParse(line.AsSpan(7).Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var caps) && (caps & (1UL << 21)) != 0;
        }
        catch (IOException) { }
        return false;
    }

    /// <summary>The thread's start time (clock ticks since boot, /proc/PID/task/TID/stat field 22), 0 when unknown.</summary>
    private static long StartTime(int pid, int tid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/task/{tid}/stat");
            var f = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return f.Length > 19 && long.TryParse(f[19], NumberStyles.Integer, CultureInfo.InvariantCulture, out var t) ? t : 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return 0; }
    }

    private static string Comm(int pid)
    {
        try { return $" ({File.ReadAllText($"/proc/{pid}/comm").TrimEnd('\n')})"; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return ""; }
    }
}
