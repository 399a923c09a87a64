using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using Whyfail.Capture.Native;

namespace Whyfail.Tracing;

/// <summary>
/// Starts the traced command so that its very first syscall is seen: whyfail re-executes itself as
/// a small launcher (<c>whyfail __launch …</c>) that stops itself with SIGSTOP; the tracer adopts it
/// (armed to start reporting at execve), sends SIGCONT, and the launcher drops privileges and execs
/// the command. Nothing the launcher itself does is reported.
/// </summary>
public static unsafe class Launcher
{
    public const string Verb = "__launch";

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
    /// Starts the launcher, which stops itself before exec. The caller adopts it (at once or later:
    /// its start-up can overlap loading the BPF programs), then calls <see cref="Release"/>.
    /// </summary>
    public static Process Start(string executable, IReadOnlyList<string> argv, Credentials? creds)
    {
        var psi = new ProcessStartInfo { UseShellExecute = false };
        var self = Environment.ProcessPath ?? throw new WhyfailException("cannot find whyfail's own executable", ExitCodes.Internal);
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            // running as `dotnet whyfail.dll`
            psi.FileName = self;
            psi.ArgumentList.Add(typeof(Launcher).Assembly.Location);
        }
        else
            psi.FileName = self;
        psi.ArgumentList.Add(Verb);
        if (creds != null)
        {
            psi.ArgumentList.Add($"{creds.Uid}:{creds.Gid}:{string.Join(',', creds.Groups)}");
        }
        else
            psi.ArgumentList.Add("-");
        psi.ArgumentList.Add(executable);
        foreach (var a in argv) psi.ArgumentList.Add(a);
        // Process.Start returns once the launcher is executing; it stops itself soon after.
        return Process.Start(psi) ?? throw new WhyfailException($"could not start {executable}", ExitCodes.Internal);
    }

    /// <summary>Waits until the launcher has stopped itself (state T in /proc/PID/stat).</summary>
    private static void WaitStopped(Process p)
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < TimeSpan.FromSeconds(30))
        {
            if (p.HasExited)
                throw new WhyfailException($"the launcher exited early with status {p.ExitCode}", ExitCodes.Internal);
            try
            {
                var stat = File.ReadAllText($"/proc/{p.Id}/stat");
                int close = stat.LastIndexOf(')');
                if (close > 0 && close + 2 < stat.Length && stat[close + 2] == 'T')
                    return;
            }
            catch (IOException) { }
            Thread.Sleep(1);
        }
        p.Kill();
        throw new WhyfailException("the launcher did not get ready within 30 s", ExitCodes.Internal);
    }

    /// <summary>Lets the adopted launcher go on to exec the command, once it has stopped itself.</summary>
    public static void Release(Process p)
    {
        WaitStopped(p);
        Libc.Kill(p.Id, Libc.SIGCONT);
    }

    /// <summary>Kills a launcher the session never released (it failed first): the command never ran.</summary>
    public sealed class KillUnlessReleased(Process? p) : IDisposable
    {
        public bool Released { get; set; }

        public void Dispose()
        {
            if (Released || p == null || p.HasExited) return;
            p.Kill();
            p.WaitForExit();
        }
    }

    /// <summary>The launcher side (runs in the child): stop, drop privileges, exec. Never returns on success.</summary>
    public static int RunLauncher(string[] args)
    {
        // args: __launch CREDS EXECUTABLE ARGV0 ARGV...
        if (args.Length < 4) return ExitCodes.Internal;
        Libc.Kill(Libc.GetPid(), Libc.SIGSTOP);

        if (args[1] != "-")
        {
            var parts = args[1].Split(':');
            uint uid = uint.Parse(parts[0]), gid = uint.Parse(parts[1]);
            var groups = parts[2].Length == 0 ? [] : parts[2].Split(',').Select(uint.Parse).ToArray();
            fixed (uint* g = groups)
            {
                // Order matters: groups and gid while still root, uid last (as strace -u / su do).
                if (Libc.SetGroups((nuint)groups.Length, g) != 0 || Libc.SetResGid(gid, gid, gid) != 0 || Libc.SetResUid(uid, uid, uid) != 0)
                {
                    Console.Error.WriteLine($"whyfail: cannot switch to uid {uid}: {Libc.ErrorText(Marshal.GetLastPInvokeError())}");
                    return ExitCodes.CommandNotExecutable;
                }
            }
        }

        string exe = args[2];
        var argv = args.Skip(3).ToArray();
        var env = Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
            .Select(e => $"{e.Key}={e.Value}").ToArray();
        int err = Exec(exe, argv, env);
        Console.Error.WriteLine($"whyfail: cannot execute {exe}: {Libc.ErrorText(err)}");
        return err == 2 ? ExitCodes.CommandNotFound : ExitCodes.CommandNotExecutable;
    }

    private static int Exec(string exe, string[] argv, string[] env)
    {
        static nint[] Pin(string[] strings, List<GCHandle> handles)
        {
            var ptrs = new nint[strings.Length + 1];
            for (int i = 0; i < strings.Length; i++)
            {
                var bytes = Encoding.UTF8.GetBytes(strings[i] + "\0");
                var h = GCHandle.Alloc(bytes, GCHandleType.Pinned);
                handles.Add(h);
                ptrs[i] = h.AddrOfPinnedObject();
            }
            return ptrs;
        }
        var handles = new List<GCHandle>();
        var a = Pin(argv, handles);
        var e = Pin(env, handles);
        var path = Encoding.UTF8.GetBytes(exe + "\0");
        fixed (byte* p = path)
        fixed (nint* ap = a)
        fixed (nint* ep = e)
        {
            Libc.Execve(p, (byte**)ap, (byte**)ep);
        }
        return Marshal.GetLastPInvokeError();
    }
}
