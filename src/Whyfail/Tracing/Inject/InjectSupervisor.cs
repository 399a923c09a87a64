using System.Runtime.InteropServices;
using System.Text;
using Whyfail.Capture.Native;
using static Whyfail.Errnos;

namespace Whyfail.Tracing.Inject;

/// <summary>
/// Answers the seccomp user notifications of --inject's filter (rules with path=, comm=, when= or retval=): a thread in
/// whyfail that takes the filter's notification descriptor from the command's process with pidfd_getfd(2) while that
/// process waits in its first execve (always notified when a supervisor is needed, and the descriptor is close-on-exec, so
/// it is still open then), and for each notified call: reads the path argument from the thread's memory
/// (process_vm_readv) and its name (/proc/TID/comm), counts the call per rule, thread and syscall, and replies with the
/// rule's error or return value, or lets the call run (SECCOMP_USER_NOTIF_FLAG_CONTINUE, Linux 5.9+).
/// The path is read while the caller waits; another thread of the program could change it before the kernel reads it
/// (the notification TOCTOU): that only changes whether whyfail injects, never what the kernel does with a call it runs.
/// When whyfail exits, the descriptor closes: a call waiting for an answer, and every later call the filter hands to
/// the supervisor, fails with ENOSYS (the filter itself stays on the processes that outlive whyfail).
/// </summary>
public sealed unsafe class InjectSupervisor : IDisposable
{
    private static readonly ulong NOTIF_RECV = Decoding.Xlat.Table("ioctls")["SECCOMP_IOCTL_NOTIF_RECV"],
        NOTIF_SEND = Decoding.Xlat.Table("ioctls")["SECCOMP_IOCTL_NOTIF_SEND"], NOTIF_ID_VALID = Decoding.Xlat.Table("ioctls")["SECCOMP_IOCTL_NOTIF_ID_VALID"];
    private static readonly uint FLAG_CONTINUE = InjectFilter.Kernel("seccomp_notif_resp_flags", "SECCOMP_USER_NOTIF_FLAG_CONTINUE");

    [StructLayout(LayoutKind.Sequential)]
    private struct Notif
    {
        public ulong Id;
        public uint Pid;
        public uint Flags;
        public int Nr;
        public uint Arch;
        public ulong Ip;
        public fixed ulong Args[6];
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Resp
    {
        public ulong Id;
        public long Val;
        public int Error;
        public uint Flags;
    }

    private readonly InjectFilter filter;
    private readonly InjectLedger ledger;
    private readonly Action<string> notice;
    private readonly Dictionary<(int Rule, int Tid, int Nr), long> counts = [];
    private Thread? thread;
    private volatile bool stop;
    private int fd = -1;

    public InjectSupervisor(InjectFilter filter, InjectLedger ledger, Action<string> notice)
    {
        this.filter = filter;
        this.ledger = ledger;
        this.notice = notice;
    }

    /// <summary>Calls the supervisor answered (all, injected or not).</summary>
    public long Answered { get; private set; }

    /// <summary>Starts the thread; <paramref name="launcherPid"/> is whyfail's launcher, whose child installs the filter.</summary>
    public void Start(int launcherPid)
    {
        thread = new Thread(() => Run(launcherPid)) { IsBackground = true, Name = "whyfail inject supervisor" };
        thread.Start();
    }

    private void Run(int launcherPid)
    {
        try
        {
            fd = Acquire(launcherPid);
            if (fd < 0) return;
            Serve();
        }
        catch (Exception e)
        {
            notice($"--inject supervisor stopped: {e.Message}; calls it would answer now fail with ENOSYS");
        }
    }

    /// <summary>Waits for the launcher's child to hold the notification descriptor, and copies it.</summary>
    private int Acquire(int launcherPid)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!stop)
        {
            var children = ReadText($"/proc/{launcherPid}/task/{launcherPid}/children");
            if (children is null) return -1; // the launcher is gone: the command never ran
            foreach (var c in children.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                if (!int.TryParse(c, out int pid)) continue;
                int found = FindListener(pid);
                if (found < 0) continue;
                int pidfd = Libc.PidfdOpen(pid);
                if (pidfd < 0) continue;
                int got = Libc.PidfdGetFd(pidfd, found);
                int err = Marshal.GetLastPInvokeError();
                Libc.Close(pidfd);
                if (got >= 0) return got;
                throw new InvalidOperationException($"cannot take the seccomp notification descriptor of pid {pid}: {Libc.ErrorText(err)}");
            }
            if (DateTime.UtcNow > deadline)
                throw new InvalidOperationException("the command's process did not install the --inject filter within 30 s");
            Thread.Sleep(1);
        }
        return -1;
    }

    private static int FindListener(int pid)
    {
        try
        {
            foreach (var entry in Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd"))
            {
                FileSystemInfo info = new FileInfo(entry);
                if (info.LinkTarget == "anon_inode:seccomp notify" && int.TryParse(Path.GetFileName(entry), out int n)) return n;
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return -1;
    }

    private void Serve()
    {
        var pfd = new Libc.PollFd { Fd = fd, Events = Libc.POLLIN };
        while (!stop)
        {
            pfd.Revents = 0;
            int n = Libc.Poll(&pfd, 1, 200);
            if (n < 0 && Marshal.GetLastPInvokeError() == EINTR) continue;
            if (n < 0) throw new InvalidOperationException($"poll: {Libc.ErrorText(Marshal.GetLastPInvokeError())}");
            if (n == 0) continue;
            if ((pfd.Revents & Libc.POLLIN) == 0 && (pfd.Revents & Libc.POLLHUP) != 0) return; // no process left under the filter
            Notif req = default;
            if (Libc.Ioctl(fd, NOTIF_RECV, &req) < 0)
            {
                int e = Marshal.GetLastPInvokeError();
                if (e is EINTR or ENOENT) continue; // the caller went away (killed, or a signal interrupted it)
                throw new InvalidOperationException($"SECCOMP_IOCTL_NOTIF_RECV: {Libc.ErrorText(e)}");
            }
            Answer(in req);
        }
    }

    private void Answer(in Notif req)
    {
        int tid = (int)req.Pid, nr = req.Nr;
        var args = new ulong[6];
        for (int i = 0; i < 6; i++) args[i] = req.Args[i];
        var resp = new Resp { Id = req.Id, Flags = FLAG_CONTINUE };
        string? comm = null;
        var counted = new List<(int, int, int)>(1);
        foreach (var rule in filter.Rules)
        {
            if (!rule.Syscalls.Contains(nr)) continue;
            if (rule.Comm != null && (comm ??= Comm(tid)) != rule.Comm) continue;
            string? matched = null;
            if (rule.PathGlob != null)
            {
                foreach (int a in InjectParser.PathArgs(nr))
                    if (ReadString(tid, args[a]) is { } p && Glob(rule.PathGlob, p)) { matched = p; break; }
                if (matched == null) continue;
            }
            var key = (rule.Index, tid, nr);
            long count = counts[key] = counts.GetValueOrDefault(key) + 1;
            counted.Add(key);
            if (rule.When != null && !rule.When.Selects(count)) continue;
            // The memory was read while the call waited; make sure it was this call's thread that was read.
            ulong id = req.Id;
            if (Libc.Ioctl(fd, NOTIF_ID_VALID, &id) < 0)
            {
                Uncount(counted);
                return;
            }
            resp.Flags = 0;
            if (rule.Error is { } e) resp.Error = -e; else resp.Val = rule.RetVal!.Value;
            ledger.Add(tid, nr, rule.Error is { } e2 ? -e2 : rule.RetVal!.Value,
                Describe(rule, nr, count, tid, matched));
            break;
        }
        Answered++;
        if (Libc.Ioctl(fd, NOTIF_SEND, &resp) < 0)
        {
            // The caller stopped waiting before the answer: killed, or interrupted by a signal or a ptrace stop (whyfail's
            // own, reading seccomp filters), after which the kernel restarts the call and notifies it again. This
            // invocation was not answered: it does not count, and no event of it will come.
            Uncount(counted);
            if (resp.Flags == 0) ledger.Forget(tid, nr);
        }
    }

    private void Uncount(List<(int, int, int)> keys)
    {
        foreach (var k in keys) counts[k]--;
    }

    private static string Describe(InjectRule rule, int nr, long count, int tid, string? path) =>
        $"whyfail's supervisor answered the call's seccomp notification with {rule.Action} (--inject={rule.Text}, rule {rule.Index}: " +
        $"invocation {count} of {Decoding.SyscallTable.Name(nr) ?? $"syscall {nr}"} by thread {tid} that matched the rule{(path != null ? $", path \"{path}\"" : "")})";

    private static string? Comm(int tid) => ReadText($"/proc/{tid}/comm")?.TrimEnd('\n');

    private static string? ReadText(string path)
    {
        try { return File.ReadAllText(path); }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    /// <summary>A NUL-terminated string from the thread's memory (at most 4096 bytes), or null when unreadable.</summary>
    private static string? ReadString(int tid, ulong addr)
    {
        if (addr == 0) return null;
        var buf = new byte[4096];
        int have = 0;
        fixed (byte* b = buf)
            while (have < buf.Length)
            {
                ulong at = addr + (ulong)have;
                int chunk = (int)Math.Min((ulong)(buf.Length - have), 4096 - (at & 4095)); // never across a page boundary
                var local = new Libc.IoVec { Base = b + have, Len = (nuint)chunk };
                var remote = new Libc.IoVec { Base = (void*)at, Len = (nuint)chunk };
                long n = Libc.ProcessVmReadv(tid, &local, 1, &remote, 1, 0);
                if (n <= 0) return null;
                int nul = Array.IndexOf(buf, (byte)0, have, (int)n);
                if (nul >= 0) return Encoding.UTF8.GetString(buf, 0, nul);
                have += (int)n;
            }
        return null; // longer than PATH_MAX: not a path the kernel would accept
    }

    /// <summary>Libc.Fnmatch(3) without flags: '*' and '?' also match '/'; [..] classes.</summary>
    public static bool Glob(string pattern, string s)
    {
        var p = Encoding.UTF8.GetBytes(pattern + "\0");
        var t = Encoding.UTF8.GetBytes(s + "\0");
        fixed (byte* pp = p)
        fixed (byte* tp = t)
            return Libc.Fnmatch(pp, tp, 0) == 0;
    }

    public void Dispose()
    {
        stop = true;
        thread?.Join(TimeSpan.FromSeconds(2));
        if (fd >= 0) Libc.Close(fd);
        fd = -1;
    }

}
