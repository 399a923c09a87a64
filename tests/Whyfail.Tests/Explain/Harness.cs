#pragma warning disable CA1416 // Linux only
using Xunit;
using System.Diagnostics;
using System.Text;
using Whyfail.Analysis.Explain;
using Whyfail.Events;

namespace Whyfail.Tests.Explain;

/// <summary>The explanation tests share the machine's process table, mounts and the nobody user: run them one at a time.</summary>
[CollectionDefinition("Explain", DisableParallelization = true)]
public sealed class ExplainCollection { }

/// <summary>
/// A real process (python3, optionally as another user via setpriv) that performs operations, prints the errno of
/// each (or "ok"), then stays alive until disposed so /proc/PID shows its real credentials, cwd, fds and limits.
/// </summary>
public sealed class Actor : IDisposable
{
    public const uint Nobody = 65534;
    public Process Process { get; }
    public int Pid => Process.Id;
    public uint Uid { get; }
    public uint Gid { get; }
    /// <summary>One line per t(...) call in the script: "ok", or the errno number.</summary>
    public List<string> Results { get; } = [];
    /// <summary>Other lines the script printed with say(...).</summary>
    public List<string> Said { get; } = [];

    private const string Prelude = """
import os, sys, errno, socket, fcntl, ctypes, resource, struct, time, termios
libc = ctypes.CDLL(None, use_errno=True)
def t(f, *a, **k):
    try:
        r = f(*a, **k)
        print("ok", flush=True)
        return r
    except OSError as e:
        print(e.errno, flush=True)
def c(name, *a):
    r = getattr(libc, name)(*a)
    if r == -1:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    return r
def say(s):
    print("say:" + str(s), flush=True)

""";

    private Actor(Process p, uint uid, uint gid) { Process = p; Uid = uid; Gid = gid; }

    /// <summary>Starts python3 running <paramref name="script"/> as uid/gid (null: as root), waits until it is done.</summary>
    /// <param name="prefix">A command that runs python3 (e.g. unshare -m), for root actors.</param>
    public static Actor Python(string script, uint? uid = Nobody, string? cwd = null, uint? gid = null, string[]? prefix = null)
    {
        var psi = new ProcessStartInfo
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true,
            UseShellExecute = false, WorkingDirectory = cwd ?? "/",
        };
        var full = Prelude + script + "\nprint(\"READY\", flush=True)\nsys.stdin.read()\n";
        if (uid is { } u)
        {
            psi.FileName = "/usr/bin/setpriv";
            foreach (var a in new[] { $"--reuid={u}", $"--regid={gid ?? u}", "--clear-groups", "--", "/usr/bin/python3", "-c", full })
                psi.ArgumentList.Add(a);
        }
        else
        {
            var args = (prefix ?? []).Concat(["/usr/bin/python3", "-c", full]).ToArray();
            psi.FileName = args[0];
            foreach (var a in args.Skip(1)) psi.ArgumentList.Add(a);
        }
        var p = Process.Start(psi)!;
        var actor = new Actor(p, uid ?? 0, gid ?? uid ?? 0);
        var deadline = DateTime.UtcNow.AddSeconds(180); // python under the lab's emulated CPU, beside another guest, is slow
        while (true)
        {
            var line = p.StandardOutput.ReadLine();
            if (line is null)
                throw new InvalidOperationException("actor exited early: " + p.StandardError.ReadToEnd());
            if (line == "READY") break;
            if (line.StartsWith("say:", StringComparison.Ordinal)) actor.Said.Add(line[4..]);
            else actor.Results.Add(line);
            if (DateTime.UtcNow > deadline) throw new TimeoutException("actor did not get ready");
        }
        return actor;
    }

    /// <summary>The errno the n-th t(...) call failed with (0 for "ok").</summary>
    public int Errno(int n = 0) => Results[n] == "ok" ? 0 : int.Parse(Results[n]);

    public void Dispose()
    {
        try { Process.StandardInput.Close(); } catch (IOException) { }
        if (!Process.WaitForExit(3000))
        {
            try { Process.Kill(); } catch (InvalidOperationException) { }
            Process.WaitForExit(3000);
        }
        Process.Dispose();
    }

    /// <summary>A failed call as the capture would report it for this process.</summary>
    public SyscallEvent Event(string syscall, int nr, int errno, ulong[] args, params (int Arg, string Value)[] strings) =>
        Ev.Make(Pid, Uid, Gid, syscall, nr, errno, args, strings.Select(s => new CapturedArg(s.Arg, CaptureKind.String, 0, Encoding.UTF8.GetBytes(s.Value), 0)).ToArray());

    public SyscallEvent Event(string syscall, int nr, int errno, ulong[] args, CapturedArg[] captured) =>
        Ev.Make(Pid, Uid, Gid, syscall, nr, errno, args, captured);
}

public static class Ev
{
    public const ulong AT_FDCWD = unchecked((ulong)-100L);

    public static SyscallEvent Make(int pid, uint uid, uint gid, string syscall, int nr, int errno, ulong[] args, CapturedArg[] captured)
    {
        var a = new ulong[6];
        Array.Copy(args, a, Math.Min(6, args.Length));
        return new SyscallEvent
        {
            Pid = pid, Tid = pid, Uid = uid, Euid = uid, Gid = gid, Egid = gid, Nr = nr, Ret = -errno, Args = a,
            Captured = captured, Comm = "python3", Syscall = syscall,
        };
    }

    public static CapturedArg Bytes(int arg, byte[] data, CaptureKind kind = CaptureKind.Fixed) => new(arg, kind, 0, data, data.Length);

    /// <summary>Runs the engine and returns the explanations.</summary>
    public static List<Explanation> Run(SyscallEvent ev)
    {
        new ExplainEngine().Explain(ev);
        // WF_EXPLAIN_LOG=file: append every explanation (for reading the wording).
        if (Environment.GetEnvironmentVariable("WF_EXPLAIN_LOG") is { Length: > 0 } log)
            File.AppendAllLines(log, ev.Explanation.Select(e => $"{ev.Syscall} {ev.Errno} [{e.Rule}{(e.Certain ? "" : ", uncertain")}] {e.Text}" + (e.Fix is null ? "" : $"\n    fix: {e.Fix}")));
        return ev.Explanation;
    }

    public static Explanation One(List<Explanation> list, string rule)
    {
        var hits = list.Where(e => e.Rule == rule).ToList();
        Assert.True(hits.Count >= 1, $"no {rule} explanation; got:\n{string.Join("\n", list.Select(e => $"[{e.Rule}] {e.Text}"))}");
        return hits[0];
    }
}

/// <summary>A temporary directory that others can enter (0755), removed with everything in it.</summary>
public sealed class TempDir : IDisposable
{
    public string Path { get; }
    private readonly List<string> mounts = [];

    public TempDir()
    {
        Path = Directory.CreateTempSubdirectory("wf-explain-").FullName;
        File.SetUnixFileMode(Path, (UnixFileMode)0x1ED);
    }

    public string this[string rel] => System.IO.Path.Combine(Path, rel);

    public string Dir(string rel, int mode = 0x1ED)
    {
        var p = this[rel];
        Directory.CreateDirectory(p);
        File.SetUnixFileMode(p, (UnixFileMode)mode);
        return p;
    }

    public string File_(string rel, string content = "x", int mode = 0x1A4)
    {
        var p = this[rel];
        File.WriteAllText(p, content);
        File.SetUnixFileMode(p, (UnixFileMode)mode);
        return p;
    }

    /// <summary>Mounts a tmpfs with <paramref name="options"/> at a new directory; unmounted on dispose.</summary>
    public string Tmpfs(string rel, string options)
    {
        var p = Dir(rel);
        Sh.Run("mount", "-t", "tmpfs", "-o", options, "wf-explain", p);
        mounts.Add(p);
        return p;
    }

    public void Dispose()
    {
        foreach (var m in Enumerable.Reverse(mounts)) Sh.Run("umount", "-l", m);
        try { Sh.Run("chattr", "-R", "-i", "-a", Path); } catch (InvalidOperationException) { }
        try { Directory.Delete(Path, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

public static class Sh
{
    public static string Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var o = p.StandardOutput.ReadToEnd();
        var e = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(' ', args)}: {e}");
        return o;
    }
}
