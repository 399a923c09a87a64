using System.Runtime.InteropServices;
using System.Text;
using Whyfail.Capture.Native;
using Whyfail.Tracing.Inject;

namespace Whyfail.Tracing;

/// <summary>
/// The launcher's own side (see <see cref="Launcher"/>), run as `whyfail __launch` when the small launcher executable is not
/// installed beside whyfail. That executable, whyfail-launch, is this class and <see cref="LauncherFilter"/>'s launcher side
/// ported to C (launcher/whyfail-launch.c: a static program starts in milliseconds where a .NET runtime takes ~300 ms of
/// CPU in the lab's emulated CPU): the same protocol, messages and exit codes. A change here is made there too.
/// </summary>
public static unsafe class LauncherChild
{
    /// <summary>
    /// The launcher side (runs in whyfail's child): wait for the go byte, drop privileges, then fork the command and wait for it. The
    /// command runs as whyfail's grandchild, so that the .NET runtime of whyfail, which reaps its own children on
    /// SIGCHLD, never consumes a ptrace stop of the command (the seccomp filters of the command are read through a
    /// brief ptrace stop). The launcher forwards SIGINT (unless it came from the terminal, which sends it to the whole
    /// process group), SIGTERM, SIGHUP and SIGQUIT to the command, and ends as the command ended: same exit status, or
    /// killed by the same signal.
    /// </summary>
    public static int Run(string[] args)
    {
        // args: __launch GOFD CREDS EXECUTABLE ARGV0 ARGV...
        if (args.Length < 5 || !int.TryParse(args[1], out int goFd)) return ExitCodes.Internal;
        byte go;
        nint got;
        do got = Libc.Read(goFd, &go, 1);
        while (got < 0 && Marshal.GetLastPInvokeError() == Errnos.EINTR);
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
        // SIGPIPE back to its default action for the command (and this launcher): the runtime ignores it, and a command
        // that inherits the ignore gets EPIPE where it would have died quietly (`yes | head` prints "Broken pipe").
        Libc.Signal(Libc.SIGPIPE, (nint)Libc.SIG_DFL);
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
                Libc.Kill(pid, ctx.Signal switch { PosixSignal.SIGINT => Libc.SIGINT, PosixSignal.SIGHUP => Libc.SIGHUP, PosixSignal.SIGQUIT => Libc.SIGQUIT, _ => Libc.SIGTERM });
            })).ToList();
        int status = 0;
        while (Libc.WaitPid(pid, &status, 0) < 0 && Marshal.GetLastPInvokeError() == Errnos.EINTR) { }
        foreach (var r in regs) r.Dispose();

        if ((status & 0x7f) == 0) return (status >> 8) & 0xff;
        int termsig = status & 0x7f;
        // Die of the same signal (without a core dump of the launcher), so that whyfail reports 128+N as for the command.
        Libc.Prctl(Libc.PR_SET_DUMPABLE, 0, 0, 0, 0);
        Libc.Signal(termsig, (nint)Libc.SIG_DFL);
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

        /// <summary>
        /// Starts the command (posix_spawn; fork and execve when the child must first install --inject's filter); returns the
        /// child's pid and, when execve failed, its errno in <paramref name="err"/>.
        /// </summary>
        public int Spawn(out int err)
        {
            err = 0;
            if (Inject == null)
            {
                // No code of ours runs in the child: posix_spawn (glibc's clone with CLONE_VM|CLONE_VFORK on a stack of its
                // own) copies no page tables and makes no copy-on-write faults in either process (fork's were ~45 page
                // faults and its page-table copy per run: bench/README "Start-up, session 15"); execve's error comes back
                // as its result, and a child that failed is reaped by it.
                int child = 0, rc;
                fixed (byte* p = path)
                fixed (nint* ap = argv)
                fixed (nint* ep = envp)
                    rc = Libc.PosixSpawn(&child, p, null, null, (byte**)ap, (byte**)ep);
                err = rc;
                return rc == 0 ? child : 0;
            }
            fixed (int* fds = errPipe)
                if (Libc.Pipe2(fds, Libc.O_CLOEXEC) != 0) return -1;
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
