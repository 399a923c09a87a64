#pragma warning disable CA1416 // Linux only
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Whyfail.Analysis.Explain;
using Whyfail.Analysis.Explain.Rules;
using Whyfail.Analysis.Seccomp;
using Whyfail.Events;
using Xunit;
using Xunit.Abstractions;
using static Whyfail.Analysis.Seccomp.ClassicBpf;
using static Whyfail.Tests.Explain.Ev;

namespace Whyfail.Tests.Seccomp;

/// <summary>
/// tests/programs/seccomp_deny: a real process whose two seccomp filters make mkdir fail (EPERM from filter 1, EACCES
/// from filter 2 for mode 0700), then stays alive answering "ping" on stdin.
/// </summary>
public sealed class SeccompProcess : IDisposable
{
    public Process Process { get; }
    /// <summary>The filtered process (the forked child unless started with "direct").</summary>
    public int Pid { get; }
    public int Tid { get; }
    /// <summary>With "thread": the second thread, which has a third filter of its own.</summary>
    public int WorkerTid { get; }
    /// <summary>(errno, path pointer, mode) of each mkdir it made (the worker thread's last).</summary>
    public List<(int Errno, ulong Path, ulong Mode)> Mkdirs { get; } = [];

    public SeccompProcess(bool direct = false, bool thread = false)
    {
        var psi = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, "programs", "seccomp_deny"))
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        if (direct) psi.ArgumentList.Add("direct");
        if (thread) psi.ArgumentList.Add("thread");
        Process = Process.Start(psi)!;
        while (true)
        {
            var line = ReadLine() ?? throw new InvalidOperationException("seccomp_deny exited early: " + Process.StandardError.ReadToEnd());
            var f = line.Split(' ');
            if (line == "READY") break;
            if (f[0] == "mkdir")
                Mkdirs.Add((int.Parse(f[1], CultureInfo.InvariantCulture), Convert.ToUInt64(f[2], 16), Convert.ToUInt64(f[3], 8)));
            else if (f[0] == "pid")
            {
                Pid = int.Parse(f[1], CultureInfo.InvariantCulture);
                Tid = int.Parse(f[3], CultureInfo.InvariantCulture);
            }
            else if (f[0] == "worker")
                WorkerTid = int.Parse(f[1], CultureInfo.InvariantCulture);
        }
    }

    public string? ReadLine(int timeoutMs = 10000)
    {
        var t = Process.StandardOutput.ReadLineAsync();
        return t.Wait(timeoutMs) ? t.Result : throw new TimeoutException("seccomp_deny did not answer");
    }

    /// <summary>Sends "ping" and returns the answer: the process is running and serving its input.</summary>
    public string? Ping()
    {
        Process.StandardInput.WriteLine("ping");
        Process.StandardInput.Flush();
        return ReadLine();
    }

    public string Status(string key, int tid = 0) =>
        File.ReadLines($"/proc/{Pid}/task/{(tid > 0 ? tid : Tid)}/status").First(l => l.StartsWith(key + ":", StringComparison.Ordinal))[(key.Length + 1)..].Trim();

    /// <summary>The failed mkdir number <paramref name="n"/> as the capture would report it.</summary>
    public SyscallEvent Event(int n, int tid = 0) => new()
    {
        Pid = Pid, Tid = tid > 0 ? tid : Tid, Comm = "seccomp_deny", Nr = 83, Syscall = "mkdir",
        Ret = -Mkdirs[n].Errno, KernelRet = -Mkdirs[n].Errno, Args = [Mkdirs[n].Path, Mkdirs[n].Mode, 0, 0, 0, 0],
    };

    public void Dispose()
    {
        try { Process.StandardInput.Close(); } catch (IOException) { }
        if (!Process.WaitForExit(5000))
        {
            try { Process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            Process.WaitForExit(3000);
        }
        Process.Dispose();
    }
}

/// <summary>Seccomp attribution on a real filtered process: reading its filters with ptrace, and the seccomp.blocked rule.</summary>
[Collection("Explain")]
public sealed class SeccompScenarioTests(ITestOutputHelper output)
{
    const uint RET_ERRNO = 0x00050000, RET_ALLOW = 0x7fff0000, RET_KILL_PROCESS = 0x80000000;

    // The two filters of tests/programs/seccomp_deny.c, instruction for instruction.
    static readonly ClassicBpf Filter1 = FromInstructions(
    [
        SockFilter.Stmt(LD | W | ABS, 0),
        SockFilter.Jump(JMP | JEQ | K, 83, 0, 1),
        SockFilter.Stmt(RET | K, RET_ERRNO | 1),
        SockFilter.Stmt(RET | K, RET_ALLOW),
    ]);
    static readonly ClassicBpf Filter2 = FromInstructions(
    [
        SockFilter.Stmt(LD | W | ABS, 4),
        SockFilter.Jump(JMP | JEQ | K, SeccompData.AuditArchX86_64, 1, 0),
        SockFilter.Stmt(RET | K, RET_KILL_PROCESS),
        SockFilter.Stmt(LD | W | ABS, 0),
        SockFilter.Jump(JMP | JEQ | K, 83, 0, 4),
        SockFilter.Stmt(LD | W | ABS, 28),
        SockFilter.Jump(JMP | JEQ | K, 0, 0, 2),
        SockFilter.Stmt(LD | W | ABS, 24),
        SockFilter.Jump(JMP | JEQ | K, 0x1c0, 1, 0),
        SockFilter.Stmt(RET | K, RET_ALLOW),
        SockFilter.Stmt(RET | K, RET_ERRNO | 13),
    ]);

    void AssertRunningAndDetached(SeccompProcess p, int pings)
    {
        Assert.Equal("0", p.Status("TracerPid"));
        // Running or back asleep in poll(), not stopped.
        Assert.DoesNotMatch("^[tT]", p.Status("State"));
        Assert.Equal($"pong {pings}", p.Ping());
        Assert.False(p.Process.HasExited);
    }

    [Fact]
    public void Reads_the_filters_of_a_running_process_and_lets_it_go()
    {
        using var p = new SeccompProcess();
        Assert.Equal("2", p.Status("Seccomp"));
        Assert.Equal("2", p.Status("Seccomp_filters"));
        SeccompFilters.ClearCache();

        var f = SeccompFilters.Get(p.Pid, p.Tid);
        output.WriteLine($"stopped for {f.Stopped.TotalMilliseconds:0.###} ms");
        Assert.True(f.Ok, f.Error);
        Assert.False(f.Cached);
        Assert.Equal(2, f.Filters!.Count);
        // Index 0 is the filter installed first.
        Assert.Equal(Filter1.ToBytes(), f.Filters[0].ToBytes());
        Assert.Equal(Filter2.ToBytes(), f.Filters[1].ToBytes());
        Assert.True(f.Stopped < TimeSpan.FromMilliseconds(500), $"stopped for {f.Stopped}");
        AssertRunningAndDetached(p, 1);

        var again = SeccompFilters.Get(p.Pid, p.Tid);
        Assert.True(again.Cached);
        Assert.Equal(TimeSpan.Zero, again.Stopped);
        AssertRunningAndDetached(p, 2);
    }

    [Fact]
    public void Mkdir_refused_by_the_first_filter()
    {
        using var p = new SeccompProcess();
        Assert.Equal(1, p.Mkdirs[0].Errno);
        SeccompFilters.ClearCache();

        var e = One(Run(p.Event(0)), "seccomp.blocked");
        output.WriteLine(e.Text + "\nfix: " + e.Fix);
        Assert.True(e.Certain);
        Assert.Contains("blocked by the process's seccomp filter (filter 1 of 2 returns ERRNO(1) for mkdir)", e.Text);
        Assert.Contains("failed it with EPERM without running it", e.Text);
        Assert.Contains("that filter looks at nr", e.Text);
        Assert.Contains("SystemCallFilter=", e.Fix);
        // The rule read the filters itself (and cached them).
        Assert.True(SeccompFilters.Get(p.Pid, p.Tid).Cached);
        AssertRunningAndDetached(p, 1);
    }

    [Fact]
    public void Same_action_from_two_filters_the_newest_decides()
    {
        using var p = new SeccompProcess();
        // The kernel's own answer: both filters return ERRNO for mode 0700, and the call got filter 2's EACCES.
        Assert.Equal(13, p.Mkdirs[1].Errno);

        var e = One(Run(p.Event(1)), "seccomp.blocked");
        output.WriteLine(e.Text);
        Assert.True(e.Certain);
        Assert.Contains("(filter 2 of 2 returns ERRNO(13) for mkdir)", e.Text);
        Assert.Contains("that filter looks at nr, arch and args[1] = 0x1c0", e.Text);
        AssertRunningAndDetached(p, 1);
    }

    [Fact]
    public void Calls_the_filters_allow_are_not_blamed_on_them()
    {
        using var p = new SeccompProcess();
        // The same process, a call its filters allow (openat of a missing file).
        SyscallEvent Openat() => new()
        {
            Pid = p.Pid, Tid = p.Tid, Comm = "seccomp_deny", Nr = 257, Syscall = "openat", Ret = -2, KernelRet = -2,
            Args = [AT_FDCWD, 0x1000, 0, 0, 0, 0],
            Captured = [new CapturedArg(1, CaptureKind.String, 0, "/nonexistent-whyfail-seccomp/f"u8.ToArray(), 0)],
        };
        var alone = Openat();
        new ExplainEngine([new SeccompBlocked()]).Explain(alone);
        var unknown = One(alone.Explanation, "unknown");
        Assert.Contains($"pid {p.Pid} (seccomp_deny)'s 2 seccomp filters (they allow openat with these arguments)", unknown.Text);

        var all = Run(Openat());
        Assert.DoesNotContain(all, x => x.Rule == "seccomp.blocked");
        One(all, "path.missing_component");
        AssertRunningAndDetached(p, 1);
    }

    [Fact]
    public void Whyfails_own_child_is_not_stopped()
    {
        // Started directly: the filtered process is this test process's own child.
        using var p = new SeccompProcess(direct: true);
        Assert.Equal(p.Process.Id, p.Pid);
        SeccompFilters.ClearCache();

        var ev = p.Event(0);
        new ExplainEngine([new SeccompBlocked()]).Explain(ev);
        var unknown = One(ev.Explanation, "unknown");
        output.WriteLine(unknown.Text);
        Assert.Contains("2 seccomp filters, which could have refused the call but could not be read", unknown.Text);
        Assert.Contains("is whyfail's own child, and stopping that one", unknown.Text);
        AssertRunningAndDetached(p, 1);
    }

    [Fact]
    public void Filters_are_read_per_thread()
    {
        using var p = new SeccompProcess(thread: true);
        Assert.Equal("2", p.Status("Seccomp_filters"));
        Assert.Equal("3", p.Status("Seccomp_filters", p.WorkerTid));
        Assert.Equal(30, p.Mkdirs[2].Errno);
        SeccompFilters.ClearCache();

        var e = One(Run(p.Event(2, p.WorkerTid)), "seccomp.blocked");
        output.WriteLine(e.Text);
        Assert.True(e.Certain);
        Assert.Contains($"blocked by thread {p.WorkerTid}'s seccomp filter (filter 3 of 3 returns ERRNO(30) for mkdir)", e.Text);
        Assert.Contains("failed it with EROFS", e.Text);
        Assert.Equal("0", p.Status("TracerPid", p.WorkerTid));
        Assert.DoesNotMatch("^[tT]", p.Status("State", p.WorkerTid));
        // The main thread's own two filters give its own answer.
        Assert.Contains("(filter 1 of 2 returns ERRNO(1) for mkdir)", One(Run(p.Event(0)), "seccomp.blocked").Text);
        AssertRunningAndDetached(p, 1);
    }

    [Fact]
    public void A_stopped_process_stays_stopped()
    {
        using var p = new SeccompProcess();
        Assert.Equal(0, Whyfail.Capture.Native.Libc.Kill(p.Pid, 19)); // SIGSTOP
        var sw = Stopwatch.StartNew();
        while (!p.Status("State").StartsWith('T') && sw.ElapsedMilliseconds < 5000) Thread.Sleep(5);
        Assert.StartsWith("T (stopped)", p.Status("State"));
        SeccompFilters.ClearCache();

        var f = SeccompFilters.Get(p.Pid, p.Tid);
        Assert.True(f.Ok, f.Error);
        Assert.Equal(2, f.Filters!.Count);
        // PTRACE_DETACH wakes a group-stopped thread so that it re-enters the group stop by itself
        // (kernel/ptrace.c, __ptrace_unlink): it may show "R" for a moment, but must be back in "T".
        sw.Restart();
        while (!p.Status("State").StartsWith('T') && sw.ElapsedMilliseconds < 5000) Thread.Sleep(5);
        Assert.StartsWith("T (stopped)", p.Status("State"));
        Assert.Equal("0", p.Status("TracerPid"));

        Assert.Equal(0, Whyfail.Capture.Native.Libc.Kill(p.Pid, 18)); // SIGCONT
        AssertRunningAndDetached(p, 1);
    }

    [Fact]
    public void Another_tracer_is_named()
    {
        using var p = new SeccompProcess();
        SeccompFilters.ClearCache();
        using (var tracer = Whyfail.Tests.Explain.Actor.Python($"say(libc.ptrace(0x4206, {p.Pid}, 0, 0))", uid: null))
        {
            Assert.Equal("0", tracer.Said[0]);
            var f = SeccompFilters.Get(p.Pid, p.Tid);
            Assert.False(f.Ok);
            Assert.Contains($"thread {p.Tid} is already traced by pid {tracer.Pid} (python3), and a thread can have only one tracer", f.Error);

            var ev = p.Event(0);
            new ExplainEngine([new SeccompBlocked()]).Explain(ev);
            Assert.Contains("could not be read: thread", One(ev.Explanation, "unknown").Text);
        }
        // The other tracer exited (which detached it); nothing was cached, so now the filters can be read.
        var sw = Stopwatch.StartNew();
        while (p.Status("TracerPid") != "0" && sw.ElapsedMilliseconds < 5000) Thread.Sleep(5);
        Assert.True(SeccompFilters.Get(p.Pid, p.Tid).Ok);
        AssertRunningAndDetached(p, 1);
    }

    [DllImport("libc", SetLastError = true)]
    static extern unsafe int waitpid(int pid, int* status, int options);

    [Fact]
    public unsafe void A_stop_report_taken_by_another_waiter_is_survived()
    {
        // Another thread of this process keeps collecting the thread's wait reports (as .NET's reaper does with
        // waitpid(-1) when SIGCHLD was ignored at start): the read must still work and let the thread go.
        using var p = new SeccompProcess();
        int stolen = 0;
        for (int i = 0; i < 10; i++)
        {
            SeccompFilters.ClearCache();
            bool done = false;
            var thief = new Thread(() =>
            {
                int st;
                while (!Volatile.Read(ref done))
                    if (waitpid(p.Tid, &st, 0x40000000 | 1) == p.Tid) { Interlocked.Increment(ref stolen); return; }
            });
            thief.Start();
            var f = SeccompFilters.Get(p.Pid, p.Tid);
            Volatile.Write(ref done, true);
            thief.Join();
            Assert.True(f.Ok, f.Error);
            Assert.Equal(2, f.Filters!.Count);
            AssertRunningAndDetached(p, i + 1);
        }
        output.WriteLine($"{stolen} of 10 stop reports were taken by the other waiter");
    }
}
