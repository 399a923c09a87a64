using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using Whyfail.Analysis.Explain;
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

    /// <summary>
    /// A pidfd of each launcher, opened as soon as it is started (it cannot end before its go byte), until the session's
    /// loop takes it: opened later, a launcher that had already ended (a short command under a launcher that exits at once)
    /// could be reaped by the runtime first, and its end would only be noticed by polling.
    /// </summary>
    private static readonly Dictionary<int, int> EndFds = [];

    /// <summary>Credentials for -u USER.</summary>
    public sealed record Credentials(string User, uint Uid, uint Gid, uint[] Groups);

    /// <summary>
    /// Finds an executable like execvp would; null when not found. With -u (<paramref name="user"/>), as execvp running
    /// as that user: it goes on past a candidate whose exec fails with EACCES, so a candidate the user can neither reach
    /// nor run (root's /root/.pyenv/shims/python3 for nobody) is passed over for a later one (/usr/bin/python3); when
    /// every candidate is so, the first, whose exec then fails and is explained.
    /// </summary>
    public static string? Resolve(string command, Credentials? user = null)
    {
        if (command.Contains('/'))
            return File.Exists(command) ? Path.GetFullPath(command) : null;
        var path = Environment.GetEnvironmentVariable("PATH") ?? "/usr/local/bin:/usr/bin:/bin";
        string? first = null;
        foreach (var dir in path.Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, command);
            if (!File.Exists(candidate) || (File.GetUnixFileMode(candidate) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) == 0)
                continue;
            if (user is null || user.Uid == 0 || MayExecute(candidate, user)) return candidate;
            first ??= candidate;
        }
        return first;
    }

    /// <summary>
    /// Whether <paramref name="user"/> may search every directory on the way to <paramref name="path"/> and execute it,
    /// by the explanation engine's model of the kernel's permission check (<see cref="Permissions.Check"/>: owner, ACL,
    /// group, others; the user has no capabilities). A component that cannot be looked at counts as allowed: exec
    /// decides then.
    /// </summary>
    internal static bool MayExecute(string path, Credentials user)
    {
        var creds = new Analysis.Explain.Credentials(user.Uid, user.Uid, user.Uid, user.Uid, user.Gid, user.Gid, user.Gid, user.Gid,
            user.Groups, 0, 0, 0, false, 0, true);
        var full = Path.GetFullPath(path);
        for (int i = full.IndexOf('/', 1); i > 0; i = full.IndexOf('/', i + 1))
            if (!Allows(full[..i], creds)) return false;
        return Allows(full, creds);
    }

    private static bool Allows(string path, Analysis.Explain.Credentials creds)
    {
        if (Analysis.Explain.Native.Stat(path, out var st, follow: true) != 0) return true;
        return Permissions.Check(creds, st, Access.Exec, Permissions.AclOf(path, st)).Allowed;
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
        var psi = SmallLauncher() is { } small ? new ProcessStartInfo(small) { UseShellExecute = false } : SelfExec.StartInfo();
        if (inject != null) psi.Environment[InjectFilter.EnvVar] = inject.Encode(); // --inject: installed by the launcher's child
        // The go pipe: both ends close-on-exec, then the read end alone made inheritable for this one start.
        int* fds = stackalloc int[2];
        if (Libc.Pipe2(fds, Libc.O_CLOEXEC) != 0)
            throw new WhyfailException($"cannot create a pipe for the launcher: {Libc.ErrorText(Marshal.GetLastPInvokeError())}", ExitCodes.Internal);
        Libc.Fcntl(fds[0], Libc.F_SETFD, 0);
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
        int end = Libc.PidfdOpen(p.Id); // (none where the kernel has no pidfd: the loop then notices the end by polling)
        if (end >= 0) lock (EndFds) EndFds[p.Id] = end;
        return p;
    }

    /// <summary>The pidfd opened when launcher <paramref name="pid"/> started (the caller closes it), or -1.</summary>
    public static int TakeEndFd(int pid)
    {
        lock (EndFds) return EndFds.Remove(pid, out int fd) ? fd : -1;
    }

    /// <summary>The small launcher executable's name (launcher/whyfail-launch.c).</summary>
    public const string SmallName = "whyfail-launch";

    /// <summary>
    /// The small launcher executable (the same protocol, in C: no runtime to start before the command's): beside
    /// whyfail (out/whyfail-launch) or where the package installs it for /usr/bin/whyfail (/usr/lib/whyfail/whyfail-launch).
    /// Only a regular file that no one but root or whyfail's own owner can write, in directories no one else can change
    /// (each one up to / owned by root or that owner, and not writable by group or others unless root's and sticky: otherwise the
    /// file checked here could be renamed away and another put in its place before it is run); null otherwise (whyfail
    /// then re-executes itself as `whyfail __launch`), and with WHYFAIL_SMALL_LAUNCHER=0 (to compare, bench/startup).
    /// </summary>
    public static string? SmallLauncher()
    {
        if (Environment.GetEnvironmentVariable("WHYFAIL_SMALL_LAUNCHER") == "0") return null;
        var self = Environment.ProcessPath;
        if (self == null || Path.GetFileNameWithoutExtension(self) == "dotnet" || SafeDirectory.LStat(self) is not { } me) return null;
        string dir = Path.GetDirectoryName(self)!;
        foreach (var path in new[] { Path.Combine(dir, SmallName), Path.GetFullPath(Path.Combine(dir, "..", "lib", "whyfail", SmallName)) })
        {
            try
            {
                if (SafeDirectory.LStat(path) is { } st && SafeDirectory.IsRegular(st.Mode) && (st.Uid == 0 || st.Uid == me.Uid)
                    && (st.Mode & 0x12 /* group, other write */) == 0 && (st.Mode & 0x40 /* owner execute */) != 0
                    && SafeDirectory.Unchangeable(Path.GetDirectoryName(path)!, me.Uid))
                    return path;
            }
            catch (IOException) { } // (e.g. a path component that is not a directory)
        }
        return null;
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
        while (n < 0 && Marshal.GetLastPInvokeError() == Errnos.EINTR);
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
            if (TakeEndFd(p.Id) is var end and >= 0) Libc.Close(end);
            if (p.HasExited) return;
            p.Kill();
            p.WaitForExit();
        }
    }

    /// <summary>The launcher side (whyfail's child): see <see cref="LauncherChild.Run"/>.</summary>
    public static int RunLauncher(string[] args) => LauncherChild.Run(args);
}
