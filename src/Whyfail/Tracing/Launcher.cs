using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using Whyfail.Capture.Native;
using Whyfail.Tracing.Inject;

namespace Whyfail.Tracing;

/// <summary>
/// Starts the traced command so that its very first syscall is seen: whyfail re-executes itself as
/// a small launcher (<c>whyfail __launch …</c>) that waits, blocked in read(2) on a pipe inherited from
/// whyfail, for the go byte; the tracer adopts it (armed to start reporting at execve; its children inherit
/// that), writes the byte, and the launcher drops privileges, forks and the child execs the command, while
/// the launcher waits for it and passes on its exit status. Nothing the launcher itself does is reported.
/// A pipe needs no handshake (the byte waits in it until the launcher reads), works under a ptrace-based
/// tracer such as strace -f (a stop signal would show as a tracing stop), and when whyfail dies before the
/// go, the launcher reads end-of-file and exits without running the command.
/// </summary>
public static unsafe class Launcher
{
    public const string Verb = "__launch";

    /// <summary>The write end of each unreleased launcher's go pipe, by launcher pid.</summary>
    private static readonly Dictionary<int, int> GoPipes = [];

    /// <summary>Credentials for -u USER.</summary>
    public sealed record Credentials(string User, uint Uid, uint Gid, uint[] Groups);

    /// <summary>Finds an executable like execvp would; null when not found.</summary>
    public static string? Resolve(string command)
    {
        if (command.Contains('/'))
            return File.Exists(command) ? Path.GetFullPath(command) : null;
        var path = Environment.GetEnvironmentVariable("PATH") ?? "/usr/local/bin:/usr/bin:/bin";
        foreach (var dir in path.Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, command);
            if (File.Exists(candidate) && (File.GetUnixFileMode(candidate) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0)
                return candidate;
        }
        return null;
    }

    /// <summary>"command not found: X (looked in /usr/local/bin, /usr/bin, /bin: …)", naming what was tried and why each failed.</summary>
    public static string NotFound(string command)
    {
        if (command.Contains('/')) return $"command not found: {command} (no such file)";
        var path = Environment.GetEnvironmentVariable("PATH") ?? "/usr/local/bin:/usr/bin:/bin";
        var tried = path.Split(':', StringSplitOptions.RemoveEmptyEntries).Select(dir =>
        {
            var candidate = Path.Combine(dir, command);
            return !Directory.Exists(dir) ? $"{dir} (no such directory)"
                : File.Exists(candidate) ? $"{dir} (has {command}, but no execute bit)"
                : dir;
        });
        return $"command not found: {command} (PATH has no executable of that name; looked in {string.Join(", ", tried)})";
    }

    public static Credentials LookupUser(string user)
    {
        Libc.Passwd pw;
        Libc.Passwd* result = null;
        var buf = new byte[16384];
        fixed (byte* b = buf)
        {
            int rc = uint.TryParse(user, out uint numeric)
                ? Libc.GetPwUidR(numeric, &pw, b, (nuint)buf.Length, &result)
                : Libc.GetPwNamR(user, &pw, b, (nuint)buf.Length, &result);
            if (rc != 0 || result == null)
                throw new WhyfailException($"unknown user '{user}' (-u): not in the password database", ExitCodes.Usage);
            string name = Marshal.PtrToStringUTF8(pw.Name) ?? user;
            int n = 64;
            uint[] groups;
            while (true)
            {
                groups = new uint[n];
                fixed (uint* g = groups)
                {
                    int count = n;
                    if (Libc.GetGroupList(name, pw.Gid, g, &count) >= 0)
                    {
                        Array.Resize(ref groups, count);
                        break;
                    }
                    n = count > n ? count : n * 2;
                }
            }
            return new Credentials(name, pw.Uid, pw.Gid, groups);
        }
    }

    /// <summary>
    /// Starts the launcher, which waits for the go byte before exec. The caller adopts it (at once or later:
    /// its start-up can overlap loading the BPF programs), then calls <see cref="Release"/>.
    /// </summary>
    public static Process Start(string executable, IReadOnlyList<string> argv, Credentials? creds, InjectFilter? inject = null)
    {
        var psi = SelfExec.StartInfo();
        if (inject != null) psi.Environment[InjectFilter.EnvVar] = inject.Encode(); // --inject: installed by the launcher's child
        // The go pipe: both ends close-on-exec, then the read end alone made inheritable for this one start.
        int* fds = stackalloc int[2];
        if (Libc.Pipe2(fds, 0x80000 /* O_CLOEXEC */) != 0)
            throw new WhyfailException($"cannot create a pipe for the launcher: {Libc.ErrorText(Marshal.GetLastPInvokeError())}", ExitCodes.Internal);
        Libc.Fcntl(fds[0], 2 /* F_SETFD */, 0);
        psi.ArgumentList.Add(Verb);
        psi.ArgumentList.Add(fds[0].ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (creds != null)
        {
            psi.ArgumentList.Add($"{creds.Uid}:{creds.Gid}:{string.Join(',', creds.Groups)}");
        }
        else
            psi.ArgumentList.Add("-");
        psi.ArgumentList.Add(executable);
        foreach (var a in argv) psi.ArgumentList.Add(a);
        Process p;
        try
        {
            p = Process.Start(psi) ?? throw new WhyfailException($"could not start {executable}", ExitCodes.Internal);
        }
        catch
        {
            Libc.Close(fds[1]);
            throw;
        }
        finally
        {
            Libc.Close(fds[0]);
        }
        lock (GoPipes) GoPipes[p.Id] = fds[1];
        return p;
    }

    /// <summary>Lets the adopted launcher go on to exec the command: writes the go byte.</summary>
    public static void Release(Process p)
    {
        int fd;
        lock (GoPipes)
            if (!GoPipes.Remove(p.Id, out fd)) throw new InvalidOperationException($"launcher {p.Id} was released twice");
        byte go = 1;
        nint n;
        do n = Libc.Write(fd, &go, 1);
        while (n < 0 && Marshal.GetLastPInvokeError() == 4 /* EINTR */);
        int err = Marshal.GetLastPInvokeError();
        Libc.Close(fd);
        if (n == 1) return;
        if (p.WaitForExit(1000))
            throw new WhyfailException($"the launcher exited early with status {p.ExitCode}", ExitCodes.Internal);
        throw new WhyfailException($"cannot release the launcher: {Libc.ErrorText(err)}", ExitCodes.Internal);
    }

    /// <summary>Kills a launcher the session never released (it failed first): the command never ran.</summary>
    public sealed class KillUnlessReleased(Process? p) : IDisposable
    {
        public bool Released { get; set; }

        public void Dispose()
        {
            if (Released || p == null) return;
            lock (GoPipes)
                if (GoPipes.Remove(p.Id, out int fd)) Libc.Close(fd); // end of file: the launcher exits without running the command
            if (p.HasExited) return;
            p.Kill();
            p.WaitForExit();
        }
    }

    /// <summary>
    /// The launcher side (runs in whyfail's child): wait for the go byte, drop privileges, then fork the command and wait for it. The
    /// command runs as whyfail's grandchild, so that the .NET runtime of whyfail, which reaps its own children on
    /// SIGCHLD, never consumes a ptrace stop of the command (the seccomp filters of the command are read through a
    /// brief ptrace stop). The launcher forwards SIGINT (unless it came from the terminal, which sends it to the whole
    /// process group), SIGTERM, SIGHUP and SIGQUIT to the command, and ends as the command ended: same exit status, or
    /// killed by the same signal.
    /// </summary>
    public static int RunLauncher(string[] args)
    {
        // args: __launch GOFD CREDS EXECUTABLE ARGV0 ARGV...
        if (args.Length < 5 || !int.TryParse(args[1], out int goFd)) return ExitCodes.Internal;
        byte go;
        nint got;
        do got = Libc.Read(goFd, &go, 1);
        while (got < 0 && Marshal.GetLastPInvokeError() == 4 /* EINTR */);
        Libc.Close(goFd);
        if (got != 1) return ExitCodes.Internal; // whyfail went away before the go: the command never runs
        using var inject = LauncherFilter.FromEnvironment();

        if (args[2] != "-")
        {
            var parts = args[2].Split(':');
            uint uid = uint.Parse(parts[0]), gid = uint.Parse(parts[1]);
            var groups = parts[2].Length == 0 ? [] : parts[2].Split(',').Select(uint.Parse).ToArray();
            fixed (uint* g = groups)
            {
                inject?.KeepCapsAcrossUidChange();
                // Order matters: groups and gid while still root, uid last (as strace -u / su do).
                if (Libc.SetGroups((nuint)groups.Length, g) != 0 || Libc.SetResGid(gid, gid, gid) != 0 || Libc.SetResUid(uid, uid, uid) != 0)
                {
                    Console.Error.WriteLine($"whyfail: cannot switch to uid {uid}: {Libc.ErrorText(Marshal.GetLastPInvokeError())}");
                    return ExitCodes.CommandNotExecutable;
                }
                inject?.RaiseAdminForFork();
            }
        }

        string exe = args[3];
        var argv = args.Skip(4).ToArray();
        var env = Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
            .Select(e => $"{e.Key}={e.Value}").ToArray();
        using var exec = new PreparedExec(exe, argv, env) { Inject = inject };
        int pid = exec.Spawn(out int err);
        inject?.DropCaps();
        if (err < 0)
        {
            Console.Error.WriteLine($"whyfail: cannot install the --inject seccomp filter: {Libc.ErrorText(-err)}");
            return ExitCodes.KernelUnsupported;
        }
        if (pid < 0 || err != 0)
        {
            Console.Error.WriteLine($"whyfail: cannot execute {exe}: {Libc.ErrorText(pid < 0 ? Marshal.GetLastPInvokeError() : err)}");
            return err == 2 ? ExitCodes.CommandNotFound : ExitCodes.CommandNotExecutable;
        }

        bool terminalInterrupt = !Console.IsInputRedirected;
        var regs = new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGHUP, PosixSignal.SIGQUIT }.Select(sig =>
            PosixSignalRegistration.Create(sig, ctx =>
            {
                ctx.Cancel = true;
                if (ctx.Signal == PosixSignal.SIGINT && terminalInterrupt) return;
                Libc.Kill(pid, ctx.Signal switch { PosixSignal.SIGINT => Libc.SIGINT, PosixSignal.SIGHUP => 1, PosixSignal.SIGQUIT => 3, _ => Libc.SIGTERM });
            })).ToList();
        int status = 0;
        while (Libc.WaitPid(pid, &status, 0) < 0 && Marshal.GetLastPInvokeError() == 4 /* EINTR */) { }
        foreach (var r in regs) r.Dispose();

        if ((status & 0x7f) == 0) return (status >> 8) & 0xff;
        int termsig = status & 0x7f;
        // Die of the same signal (without a core dump of the launcher), so that whyfail reports 128+N as for the command.
        Libc.Prctl(4 /* PR_SET_DUMPABLE */, 0, 0, 0, 0);
        Libc.Signal(termsig, 0 /* SIG_DFL */);
        Libc.Kill(Libc.GetPid(), termsig);
        return 128 + termsig;
    }

    /// <summary>
    /// Everything the forked child needs, prepared before fork (arguments pinned, the libc entry points called once),
    /// so that between fork and execve the child only calls execve and write: nothing that allocates or needs the
    /// runtime, whose other threads do not exist in the child.
    /// </summary>
    private sealed class PreparedExec : IDisposable
    {
        private readonly List<GCHandle> handles = [];
        private readonly byte[] path;
        private readonly nint[] argv, envp;
        private readonly int[] errPipe = new int[2];
        /// <summary>--inject's seccomp filter, installed by the child just before execve (its errno is reported negated).</summary>
        public LauncherFilter? Inject { get; init; }

        public PreparedExec(string exe, string[] args, string[] env)
        {
            path = Encoding.UTF8.GetBytes(exe + "\0");
            argv = Pin(args);
            envp = Pin(env);
        }

        private nint[] Pin(string[] strings)
        {
            var ptrs = new nint[strings.Length + 1];
            for (int i = 0; i < strings.Length; i++)
            {
                var h = GCHandle.Alloc(Encoding.UTF8.GetBytes(strings[i] + "\0"), GCHandleType.Pinned);
                handles.Add(h);
                ptrs[i] = h.AddrOfPinnedObject();
            }
            return ptrs;
        }

        /// <summary>Forks and execs; returns the child's pid and, when execve failed, its errno in <paramref name="err"/>.</summary>
        public int Spawn(out int err)
        {
            err = 0;
            fixed (int* fds = errPipe)
                if (Libc.Pipe2(fds, 0x80000 /* O_CLOEXEC */) != 0) return -1;
            int e = 0;
            // Warm up the entry points the child uses (resolved and, under a JIT, compiled now, not in the child).
            Libc.Write(errPipe[1], &e, 0);
            Libc.Execve(null, null, null);
            Inject?.WarmUp();
            int pid;
            fixed (byte* p = path)
            fixed (nint* ap = argv)
            fixed (nint* ep = envp)
            {
                pid = Libc.Fork();
                if (pid == 0)
                {
                    if (Inject != null && (e = Inject.InstallInChild()) != 0)
                        e = -e;
                    else
                    {
                        Libc.Execve(p, (byte**)ap, (byte**)ep);
                        e = Marshal.GetLastPInvokeError();
                    }
                    Libc.Write(errPipe[1], &e, 4);
                    Libc.Kill(Libc.GetPid(), Libc.SIGKILL); // (no _exit: its entry point could not be warmed up)
                }
            }
            if (pid < 0) return -1;
            Libc.Close(errPipe[1]);
            errPipe[1] = -1;
            int got = 0, n;
            while ((n = (int)Libc.Read(errPipe[0], (byte*)&got, 4)) < 0 && Marshal.GetLastPInvokeError() == 4) { }
            if (n == 4)
            {
                err = got;
                Libc.WaitPid(pid, &n, 0);
            }
            return pid;
        }

        public void Dispose()
        {
            foreach (var h in handles) h.Free();
            foreach (var fd in errPipe) if (fd > 0) Libc.Close(fd);
        }
    }

}
