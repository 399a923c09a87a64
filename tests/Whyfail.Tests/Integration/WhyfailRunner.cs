using System.Diagnostics;
using System.Text.Json;

namespace Whyfail.Tests.Integration;

/// <summary>Runs the real whyfail binary (as root, on the real kernel) and reads its JSON Lines output.</summary>
public sealed class WhyfailRun
{
    public int ExitCode { get; init; }
    public string Stdout { get; init; } = "";
    public string Stderr { get; init; } = "";
    public List<JsonElement> Lines { get; init; } = [];

    public IEnumerable<JsonElement> Syscalls => Lines.Where(l => l.GetProperty("type").GetString() == "syscall");
    public JsonElement Summary => Lines.Single(l => l.GetProperty("type").GetString() == "summary");

    public IEnumerable<JsonElement> Failures(string syscall, string errno) =>
        Syscalls.Where(l => l.GetProperty("syscall").GetString() == syscall && l.GetProperty("errno").GetString() == errno);

    public override string ToString() => $"exit {ExitCode}\nstdout:\n{Stdout}\nstderr:\n{Stderr}";
}

public static class WhyfailRunner
{
    public static string BaseDir => AppContext.BaseDirectory;
    public static string WhyfailDll => Path.Combine(BaseDir, "whyfail.dll");
    public static string Program(string name) => Path.Combine(BaseDir, "programs", name);

    /// <summary>
    /// Tests that are not about kernel origins turn them off (--deep none): computing the kernel call
    /// graph under the lab's emulated CPU takes tens of seconds per run.
    /// </summary>
    public static ProcessStartInfo StartInfo(IEnumerable<string> args)
    {
        var list = args.ToList();
        int dashdash = list.IndexOf("--");
        if (!list.Contains("--deep") && list.Count > 0 && list[0] is not ("errno" or "doctor" or "graph" or "probe" or "__reap" or "deny"))
            list.Insert(dashdash >= 0 ? dashdash : list.Count, "--deep=none");
        args = list;
        // The native binary (WHYFAIL_BIN, set by test.sh to out/whyfail) when built, else the assembly.
        var bin = Environment.GetEnvironmentVariable("WHYFAIL_BIN");
        var psi = new ProcessStartInfo(bin is { Length: > 0 } && File.Exists(bin) ? bin : "dotnet")
            { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        if (psi.FileName == "dotnet")
        {
            psi.ArgumentList.Add("exec");
            psi.ArgumentList.Add(WhyfailDll);
        }
        foreach (var a in args) psi.ArgumentList.Add(a);
        return psi;
    }

    /// <summary>Runs whyfail with --json -o FILE plus the given arguments and parses the JSON lines.</summary>
    public static WhyfailRun Run(params string[] args) => Run(args, TimeSpan.FromMinutes(3));

    /// <param name="env">Variables set for this whyfail only (never the test process's own: tests run in parallel).</param>
    public static WhyfailRun Run(IEnumerable<string> args, TimeSpan timeout, Action<Process, string>? whileRunning = null,
        IDictionary<string, string>? env = null)
    {
        var outFile = Path.Combine(Path.GetTempPath(), $"whyfail-test-{Guid.NewGuid():N}.jsonl");
        try
        {
            var psi = StartInfo(new[] { "--json", "-o", outFile }.Concat(args));
            foreach (var (k, v) in env ?? new Dictionary<string, string>())
                psi.Environment[k] = v;
            using var p = Process.Start(psi)!;
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            whileRunning?.Invoke(p, outFile);
            if (!p.WaitForExit(timeout))
            {
                p.Kill(entireProcessTree: true);
                throw new TimeoutException($"whyfail {string.Join(' ', args)} did not finish within {timeout}");
            }
            p.WaitForExit();
            var lines = File.Exists(outFile)
                ? File.ReadAllLines(outFile).Where(l => l.Length > 0).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList()
                : [];
            return new WhyfailRun { ExitCode = p.ExitCode, Stdout = stdout.Result, Stderr = stderr.Result, Lines = lines };
        }
        finally
        {
            File.Delete(outFile);
        }
    }

    /// <summary>Runs whyfail without --json, returning its text output (written with -o).</summary>
    public static (int ExitCode, string Text, string Stderr) RunText(params string[] args) => RunText(TimeSpan.FromMinutes(3), args);

    public static (int ExitCode, string Text, string Stderr) RunText(TimeSpan timeout, params string[] args) => RunText(args, timeout);

    public static (int ExitCode, string Text, string Stderr) RunText(TimeSpan timeout, Action<Process, string>? whileRunning, params string[] args) =>
        RunText(args, timeout, whileRunning);

    public static (int ExitCode, string Text, string Stderr) RunText(IEnumerable<string> args, TimeSpan timeout, Action<Process, string>? whileRunning = null)
    {
        var outFile = Path.Combine(Path.GetTempPath(), $"whyfail-test-{Guid.NewGuid():N}.txt");
        try
        {
            using var p = Process.Start(StartInfo(new[] { "-o", outFile }.Concat(args)))!;
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            whileRunning?.Invoke(p, outFile);
            if (!p.WaitForExit(timeout)) { p.Kill(true); throw new TimeoutException(); }
            p.WaitForExit();
            return (p.ExitCode, File.Exists(outFile) ? File.ReadAllText(outFile) : "", stderr.Result + stdout.Result);
        }
        finally
        {
            File.Delete(outFile);
        }
    }
}
