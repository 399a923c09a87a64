using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using Whyfail.Capture;
using Xunit;

namespace Whyfail.Tests.Integration;

/// <summary>
/// The link reaper on its own (no BPF needed, so on the host too): <c>whyfail __reap EXITFD FD…</c> holds the
/// descriptors it inherited, in a session of its own, until EXITFD reads end of file, then closes them and exits.
/// A FIFO stands for a probe link: its reader sees end of file exactly when the last writer closes it.
/// </summary>
public class ReaperTests
{
    [Fact]
    public void TheReaperHoldsItsDescriptorsUntilWhyfailIsGoneThenClosesThem()
    {
        var dir = Directory.CreateTempSubdirectory("whyfail-reap-");
        try
        {
            string fifo = Path.Combine(dir.FullName, "link");
            using (var mkfifo = Process.Start("mkfifo", [fifo])!)
            {
                mkfifo.WaitForExit();
                Assert.Equal(0, mkfifo.ExitCode);
            }
            // fd 3: the "exit pipe" (this test's end of the reaper's standard input); fd 4: the FIFO's write end.
            var inner = WhyfailRunner.StartInfo(["__reap", "3", "4"]);
            var psi = new ProcessStartInfo("sh") { RedirectStandardInput = true, UseShellExecute = false };
            foreach (var a in new[] { "-c", "f=$1; shift; exec \"$@\" 3<&0 4>\"$f\"", "sh", fifo, inner.FileName }.Concat(inner.ArgumentList))
                psi.ArgumentList.Add(a);
            using var reaper = Process.Start(psi)!;
            using var reader = new FileStream(fifo, FileMode.Open, FileAccess.Read); // meets the reaper's open of the write end
            // It is in a session of its own (no terminal signal reaches it) and holds the write end.
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (Session(reaper.Id) != reaper.Id && DateTime.UtcNow < deadline) Thread.Sleep(20);
            Assert.Equal(reaper.Id, Session(reaper.Id));
            Assert.Equal(fifo, new FileInfo($"/proc/{reaper.Id}/fd/4").LinkTarget);
            Assert.False(reaper.HasExited);
            // "whyfail exits": end of file on fd 3. The reaper closes the FIFO (its reader sees end of file) and exits 0.
            reaper.StandardInput.Close();
            var read = reader.ReadAsync(new byte[1]).AsTask();
            Assert.True(read.Wait(TimeSpan.FromSeconds(30)), "the reaper did not close what it held");
            Assert.Equal(0, read.Result);
            Assert.True(reaper.WaitForExit(30_000));
            Assert.Equal(0, reaper.ExitCode);
        }
        finally
        {
            dir.Delete(true);
        }
    }

    private static int Session(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return int.Parse(fields[3]); // state ppid pgrp session
        }
        catch (IOException)
        {
            return -1;
        }
    }
}

/// <summary>
/// The entry copies' perf events (whose close waits ~50 ms each for the kernel) are left to the small launcher
/// (<c>whyfail-launch __hold</c>) when whyfail exits: on the host too, with no probe at all.
/// </summary>
[Collection("tracing")]
public class EntryTracepointTeardownTests
{
    [Fact]
    public void TheSmallLauncherClosesTheEntryTracepointsAfterWhyfailAndLeavesNoneBehind()
    {
        static HashSet<int> EntryPrograms() => TeardownLabTests.Programs("on_sys_enter_c");
        var before = EntryPrograms();
        var outFile = Path.Combine(Path.GetTempPath(), $"whyfail-test-{Guid.NewGuid():N}.jsonl");
        try
        {
            using var p = Process.Start(WhyfailRunner.StartInfo(["--json", "-o", outFile, "--", "/bin/sleep", "3"]))!;
            // while the command runs, the entry program is on its calls' tracepoints
            var seen = DateTime.UtcNow + TimeSpan.FromSeconds(3);
            while (EntryPrograms().Except(before).Count() == 0 && DateTime.UtcNow < seen) Thread.Sleep(100);
            Assert.NotEmpty(EntryPrograms().Except(before));
            Assert.True(p.WaitForExit(60_000), "whyfail did not end");
            Assert.Equal(0, p.ExitCode);
            // no notice: holding them is routine (the reaper's notice is for probes)
            Assert.DoesNotContain(File.ReadAllLines(outFile), l => l.Contains("\"notice\"") && l.Contains("__reap"));
        }
        finally
        {
            File.Delete(outFile);
        }
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        HashSet<int> left;
        while ((left = EntryPrograms().Except(before).ToHashSet()).Count > 0 && DateTime.UtcNow < deadline) Thread.Sleep(100);
        Assert.Empty(left);
        // and no holder's pid file stays behind (doctor would report it as still detaching)
        while (LinkReaper.Find().Any(r => r.What.Contains("entry tracepoints")) && DateTime.UtcNow < deadline) Thread.Sleep(100);
        Assert.DoesNotContain(LinkReaper.Find(), r => r.What.Contains("entry tracepoints"));
    }
}

/// <summary>
/// Deep mode's teardown in the lab kernels: whyfail exits as soon as the command has, handing its probe links to
/// a reaper that detaches them afterwards; nothing stays attached once the reaper is gone, also when whyfail or the
/// reaper is killed; doctor reports a reaper still at work. fexit links take the longest to close (each waits for the
/// kernel), so the tests use them on both kernels; a budget keeps the set small.
/// </summary>
[Collection("tracing")]
[Trait("kernel", "lab")]
public class TeardownLabTests
{
    private static readonly string[] Deep = ["--deep", "openat", "--deep-budget", "80", "--backend", "fexit"];
    private static readonly TimeSpan Lab = TimeSpan.FromMinutes(10);

    [Fact]
    public void WhyfailExitsBeforeItsProbesAreDetachedAndTheReaperLeavesNoneBehind()
    {
        var before = OriginPrograms();
        string path = $"/nonexistent-whyfail-{Guid.NewGuid():N}/x";
        var run = WhyfailRunner.Run([.. Deep, "--", WhyfailRunner.Program("open_missing"), path], Lab);
        // The command's status and report are whole: the failure (with its origin) and the summary.
        Assert.True(run.ExitCode == 1, run.ToString());
        var ev = Assert.Single(run.Failures("openat", "ENOENT"), e => e.GetProperty("args")[1].GetString() == $"\"{path}\"");
        Assert.Equal(JsonValueKind.Object, ev.GetProperty("origin").ValueKind);
        Assert.Equal(run.Syscalls.Count(), run.Summary.GetProperty("reported").GetInt32());
        int reaper = ReaperPid(run);
        // whyfail is gone, its probes are not yet: the reaper still holds and detaches them.
        Assert.True(IsReaper(reaper), $"the reaper {reaper} had already finished when whyfail exited\n{run}");
        Assert.True(File.Exists($"/run/whyfail/reaper.{reaper}"));
        Assert.NotEmpty(OriginPrograms().Except(before));
        WaitUntilGone(reaper);
        Assert.False(File.Exists($"/run/whyfail/reaper.{reaper}"));
        AssertNoneLeft(before);
    }

    [Fact]
    public void KillingWhyfailWhileTracingLeavesNoProbesBehind()
    {
        var before = OriginPrograms();
        var outFile = Path.Combine(Path.GetTempPath(), $"whyfail-test-{Guid.NewGuid():N}.jsonl");
        try
        {
            using var p = Process.Start(WhyfailRunner.StartInfo(["--json", "-o", outFile, .. Deep, "--", "/bin/sleep", "600"]))!;
            OriginTests.WaitForOutput(p, outFile, "functions watched with fexit");
            Assert.False(p.HasExited, File.Exists(outFile) ? File.ReadAllText(outFile) : "no output");
            Assert.NotEmpty(OriginPrograms().Except(before));
            p.Kill(entireProcessTree: true); // SIGKILL: no teardown code of whyfail runs, the kernel releases what it held
            Assert.True(p.WaitForExit((int)Lab.TotalMilliseconds));
            AssertNoneLeft(before);
        }
        finally
        {
            File.Delete(outFile);
        }
    }

    [Fact]
    public void KillingTheReaperLeavesNoProbesBehind()
    {
        var before = OriginPrograms();
        var run = WhyfailRunner.Run([.. Deep, "--", WhyfailRunner.Program("open_missing"), "/nonexistent-whyfail/x"], Lab);
        Assert.True(run.ExitCode == 1, run.ToString());
        int reaper = ReaperPid(run);
        Assert.True(IsReaper(reaper), $"the reaper {reaper} had already finished when whyfail exited");
        Process.GetProcessById(reaper).Kill(); // SIGKILL
        WaitUntilGone(reaper);
        AssertNoneLeft(before);
        // Its pid file stays behind: doctor sees the reaper is gone, removes it and reports nothing running.
        var doctor = Doctor();
        Assert.True(doctor.GetProperty("ok").GetBoolean(), doctor.ToString());
        Assert.False(File.Exists($"/run/whyfail/reaper.{reaper}"));
    }

    [Fact]
    public void DoctorReportsAReaperStillDetaching()
    {
        var run = WhyfailRunner.Run([.. Deep, "--", WhyfailRunner.Program("open_missing"), "/nonexistent-whyfail/x"], Lab);
        Assert.True(run.ExitCode == 1, run.ToString());
        int reaper = ReaperPid(run);
        // Stopped, it stays "still detaching" for as long as doctor takes.
        Assert.Equal(0, Kill(reaper, 19 /* SIGSTOP */));
        try
        {
            Assert.True(IsReaper(reaper), $"the reaper {reaper} had already finished when whyfail exited");
            var doctor = Doctor();
            Assert.False(doctor.GetProperty("ok").GetBoolean(), doctor.ToString());
            string detail = doctor.GetProperty("detail").GetString()!;
            Assert.Contains($"pid {reaper}", detail);
            Assert.Contains("fexit probes", detail);
        }
        finally
        {
            Kill(reaper, 18 /* SIGCONT */);
        }
        WaitUntilGone(reaper);
        Assert.True(Doctor().GetProperty("ok").GetBoolean());
    }

    private static int ReaperPid(WhyfailRun run)
    {
        var notice = run.Lines.Select(l => l.GetProperty("type").GetString() == "notice" ? l.GetProperty("text").GetString()! : "")
            .FirstOrDefault(t => t.Contains("whyfail __reap, pid "));
        Assert.True(notice != null, $"no reaper notice\n{run}");
        return int.Parse(Regex.Match(notice, @"__reap, pid (\d+)").Groups[1].Value);
    }

    private static JsonElement Doctor()
    {
        using var p = Process.Start(WhyfailRunner.StartInfo(["doctor", "--json"]))!;
        string json = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
        return JsonDocument.Parse(json).RootElement.GetProperty("probe teardown").Clone();
    }

    private static bool IsReaper(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Split('\0').Contains("__reap");
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>Waits for the reaper to end (gone, or a zombie whose parent has not collected it yet).</summary>
    private static void WaitUntilGone(int pid)
    {
        var deadline = DateTime.UtcNow + Lab;
        while (IsReaper(pid) && DateTime.UtcNow < deadline) Thread.Sleep(200);
        Assert.False(IsReaper(pid), $"the reaper {pid} still runs after {Lab}");
    }

    /// <summary>No origin program of whyfail (nor a link to one) that was not there before, once the kernel has had time to free them.</summary>
    private static void AssertNoneLeft(HashSet<int> before)
    {
        var deadline = DateTime.UtcNow + Lab;
        HashSet<int> left;
        while ((left = OriginPrograms().Except(before).ToHashSet()).Count > 0 && DateTime.UtcNow < deadline) Thread.Sleep(500);
        Assert.Empty(left);
        var links = Bpftool("link", "list").EnumerateArray().Where(l => l.TryGetProperty("prog_id", out var id) && left.Contains(id.GetInt32()));
        Assert.Empty(links);
    }

    /// <summary>Ids of the programs whyfail attaches for origins (fexit ones are all named wf_origin), as bpftool lists them.</summary>
    private static HashSet<int> OriginPrograms() =>
        Bpftool("prog", "show").EnumerateArray()
            .Where(p => p.TryGetProperty("name", out var n) && n.GetString() is "wf_origin" or "origin_fexit" or "origin_kretprob")
            .Select(p => p.GetProperty("id").GetInt32()).ToHashSet();

    /// <summary>Ids of the loaded programs whose name (the kernel keeps 15 characters) starts with <paramref name="prefix"/>.</summary>
    internal static HashSet<int> Programs(string prefix) =>
        Bpftool("prog", "show").EnumerateArray()
            .Where(p => p.TryGetProperty("name", out var n) && n.GetString()!.StartsWith(prefix, StringComparison.Ordinal))
            .Select(p => p.GetProperty("id").GetInt32()).ToHashSet();

    private static JsonElement Bpftool(params string[] args)
    {
        var psi = new ProcessStartInfo("bpftool") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("-j");
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        string json = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"bpftool {string.Join(' ', args)}: {p.StandardError.ReadToEnd()}");
        return JsonDocument.Parse(json.Length > 0 ? json : "[]").RootElement.Clone();
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill")]
    private static extern int Kill(int pid, int sig);
}
