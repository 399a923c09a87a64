using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Whyfail.Capture.Native;
using static Whyfail.Capture.Native.Libc;

namespace Whyfail.Capture;

/// <summary>
/// Takes the slow part of detaching off the user's path. Closing a probe link waits for the kernel to
/// be sure no CPU still runs the probe (an RCU grace period, taken under a kernel lock, so closes hardly
/// overlap): ~150 ms per fexit link or kretprobe in the lab, a minute and a half for the default deep set
/// on kernels without kprobe.multi. So whyfail hands its probe links to a detached helper, itself
/// re-executed as <c>whyfail __reap</c>, which inherits a copy of each link descriptor, waits for whyfail
/// to exit, then closes them (from several threads, so that whatever the kernel can share, it shares) and
/// exits. whyfail closes its own copies at once: with another holder that only drops a reference, so
/// whyfail prints its summary and exits as soon as the command has. A link lives as long as some process
/// holds it: if the reaper is killed, the kernel closes what it still held, as at any process exit, and
/// nothing is left behind. While it runs, its pid file in <see cref="RunDir"/> says so (<c>whyfail doctor</c>
/// and the next deep run report it).
/// </summary>
public static unsafe class LinkReaper
{
    public const string Verb = "__reap";

    /// <summary>The small launcher's verb for the same job (launcher/whyfail-launch.c).</summary>
    public const string HoldVerb = "__hold";
    public const string RunDir = "/run/whyfail";
    private const string Prefix = "reaper.";

    /// <summary>Set to 0, whyfail closes its links itself before exiting (as before the reaper; for measurements).</summary>
    public const string EnvSwitch = "WHYFAIL_REAPER";

    /// <summary>The write end of the pipe whose end of file (whyfail's exit) starts the reaper; never closed by whyfail.</summary>
    private static int _exitPipe = -1;

    /// <summary>A reaper still detaching, as its pid file describes it.</summary>
    /// <param name="Holder">The small launcher holding the entry copies' perf events (<see cref="HoldVerb"/>), not probes.</param>
    public sealed record Running(int Pid, int Parent, int Links, string What, DateTime Started, bool Holder = false);

    /// <summary>
    /// Starts a reaper holding a copy of <paramref name="fds"/> and returns its pid; null when none could be
    /// started (or <see cref="EnvSwitch"/> is 0): then the caller's own close is the only one, as before.
    /// The caller's descriptors are left open for it to close. With <paramref name="holder"/> (the small launcher,
    /// <c>whyfail-launch __hold</c>: no runtime to start, a millisecond) that process holds and closes them, one after
    /// the other: for the few links whose close is slow only by the kernel's grace periods (the entry copies' perf
    /// events), not for hundreds of probes.
    /// </summary>
    public static int? HandOff(IReadOnlyCollection<int> fds, string what, string? holder = null)
    {
        if (fds.Count == 0 || Environment.GetEnvironmentVariable(EnvSwitch) == "0") return null;
        // One hand-off per process (a session detaches once); a second one would close its links itself.
        if (_exitPipe >= 0) return null;
        var dups = new List<int>(fds.Count);
        int* pipe = stackalloc int[2];
        if (Libc.Pipe2(pipe, O_CLOEXEC) != 0) return null;
        bool started = false;
        try
        {
            // Inheritable copies: every descriptor libbpf and .NET open is close-on-exec.
            Libc.Fcntl(pipe[0], F_SETFD, 0);
            foreach (int fd in fds)
            {
                int d = Libc.Fcntl(fd, F_DUPFD, 3);
                if (d < 0) return null;
                dups.Add(d);
            }
            var psi = holder != null ? new ProcessStartInfo(holder) { UseShellExecute = false } : SelfExec.StartInfo();
            psi.RedirectStandardInput = psi.RedirectStandardOutput = psi.RedirectStandardError = true;
            psi.ArgumentList.Add(holder != null ? HoldVerb : Verb);
            psi.ArgumentList.Add(pipe[0].ToString(CultureInfo.InvariantCulture));
            if (holder != null) psi.ArgumentList.Add(RunDir);
            foreach (int d in dups) psi.ArgumentList.Add(d.ToString(CultureInfo.InvariantCulture));
            Process p;
            try
            {
                p = Process.Start(psi)!;
            }
            catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
            {
                return null;
            }
            // Its standard streams are pipes to whyfail alone, closed now: it never holds the terminal or a
            // pipe that someone reads to its end (`whyfail … | less`, a test runner).
            p.StandardInput.Close();
            p.StandardOutput.Close();
            p.StandardError.Close();
            started = true;
            _exitPipe = pipe[1]; // held until whyfail exits
            WritePidFile(p.Id, fds.Count, what);
            return p.Id;
        }
        finally
        {
            foreach (int d in dups) Libc.Close(d);
            Libc.Close(pipe[0]);
            if (!started) Libc.Close(pipe[1]);
        }
    }

    /// <summary>The reaper: <c>whyfail __reap EXITFD FD...</c>.</summary>
    public static int Run(string[] args)
    {
        if (args.Length < 2 || !int.TryParse(args[1], CultureInfo.InvariantCulture, out int exitFd)) return ExitCodes.Usage;
        var fds = args.Skip(2).Select(a => int.TryParse(a, CultureInfo.InvariantCulture, out int fd) ? fd : -1).Where(fd => fd > 2).ToArray();
        // Its own session: no terminal signal (Ctrl-C in the shell, a closed terminal's SIGHUP) reaches it.
        Libc.Setsid();
        // Wait for whyfail's exit (end of file; also when it was killed), so the closes never compete with its last lines.
        byte b;
        nint n;
        do n = Libc.Read(exitFd, &b, 1);
        while (n > 0 || (n < 0 && Marshal.GetLastPInvokeError() == Errnos.EINTR));
        Libc.Close(exitFd);
        CloseInParallel(fds);
        try
        {
            File.Delete(PidFile(Environment.ProcessId));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
        return 0;
    }

    /// <summary>Frees libbpf's handles of links a reaper holds without detaching them; their descriptors stay open until whyfail exits.</summary>
    internal static void LetGo(List<nint> links)
    {
        foreach (var l in links)
        {
            Libbpf.LinkDisconnect(l);
            Libbpf.LinkDestroy(l);
        }
        links.Clear();
    }

    /// <summary>Closes descriptors from up to 32 threads of its own (not the thread pool, which grows slowly while its threads block in the kernel).</summary>
    public static void CloseInParallel(IReadOnlyList<int> fds)
    {
        int n = Math.Min(fds.Count, 32);
        var threads = new Thread[n];
        for (int t = 0; t < n; t++)
        {
            int first = t;
            threads[t] = new Thread(() =>
            {
                for (int i = first; i < fds.Count; i += n) Libc.Close(fds[i]);
            }, 256 * 1024) { IsBackground = true };
            threads[t].Start();
        }
        foreach (var t in threads) t.Join();
    }

    private static string PidFile(int pid) => Path.Combine(RunDir, Prefix + pid.ToString(CultureInfo.InvariantCulture));

    private static void WritePidFile(int pid, int links, string what)
    {
        try
        {
            Directory.CreateDirectory(RunDir);
            File.WriteAllText(PidFile(pid),
                $"pid={pid}\nparent={Environment.ProcessId}\nlinks={links}\nwhat={what}\nstarted={DateTime.UtcNow:O}\n");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Without a pid file doctor cannot report it; the reaper still does its job.
        }
    }

    /// <summary>Reapers still running (their pid files); files of reapers that are gone (killed) are removed.</summary>
    public static List<Running> Find()
    {
        var list = new List<Running>();
        string[] files;
        try
        {
            files = Directory.Exists(RunDir) ? Directory.GetFiles(RunDir, Prefix + "*") : [];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return list;
        }
        foreach (var f in files)
        {
            try
            {
                var kv = File.ReadAllLines(f).Select(l => l.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1]);
                int pid = int.Parse(kv.GetValueOrDefault("pid", "0"), CultureInfo.InvariantCulture);
                var verb = pid > 0 ? VerbOf(pid) : null;
                if (verb is null)
                {
                    File.Delete(f);
                    continue;
                }
                list.Add(new Running(pid, int.Parse(kv.GetValueOrDefault("parent", "0"), CultureInfo.InvariantCulture),
                    int.Parse(kv.GetValueOrDefault("links", "0"), CultureInfo.InvariantCulture), kv.GetValueOrDefault("what", ""),
                    DateTime.Parse(kv.GetValueOrDefault("started", "2000-01-01T00:00:00Z"), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind),
                    verb == HoldVerb));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or OverflowException)
            {
            }
        }
        return list;
    }

    /// <summary>One line for a notice or doctor.</summary>
    public static string Describe(Running r) =>
        $"a whyfail reaper (pid {r.Pid}) is still detaching {r.What} left by whyfail pid {r.Parent}, for {(DateTime.UtcNow - r.Started).TotalSeconds:0} s so far";

    /// <summary>The verb pid runs with (<see cref="Verb"/> or <see cref="HoldVerb"/>); null when it is neither (gone, or a reused pid).</summary>
    private static string? VerbOf(int pid)
    {
        try
        {
            var argv = File.ReadAllText($"/proc/{pid}/cmdline").Split('\0');
            return argv.Contains(Verb) ? Verb : argv.Contains(HoldVerb) ? HoldVerb : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

}
