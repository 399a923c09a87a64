using System.Diagnostics;
using System.Text.Json;
using Xunit;

namespace Whyfail.Tests.Integration;

/// <summary>
/// Rules for failures that had none (issue 15): a disk quota (EDQUOT), a stale pid (ESRCH from kill), a ptrace
/// request on a process that is not a stopped tracee (ESRCH), O_TMPFILE refused (EINVAL, EOPNOTSUPP). Each is a
/// real program failing for real.
/// </summary>
[Collection("tracing")]
[Trait("suite", "integration")]
public class MoreRulesTests
{
    private static string P(string name) => WhyfailRunner.Program(name);

    private static string Text(JsonElement ev, string rule)
    {
        var e = ev.GetProperty("explanation").EnumerateArray().FirstOrDefault(x => x.GetProperty("rule").GetString() == rule);
        Assert.True(e.ValueKind == JsonValueKind.Object, $"expected {rule}: {ev}");
        return e.GetProperty("text").GetString()!;
    }

    private static void Sh(string cmd)
    {
        var p = Process.Start("/bin/sh", ["-c", cmd])!;
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"{cmd}: exit {p.ExitCode}");
    }

    [FactRequiringFs("btrfs", "mkfs.btrfs")]
    public void DiskQuotaOfABtrfsQgroup()
    {
        var dir = Directory.CreateTempSubdirectory("whyfail-quota-");
        var img = dir.FullName + ".img";
        try
        {
            Sh($"truncate -s 200M {img} && mkfs.btrfs -q -f {img} >/dev/null && mount -o loop {img} {dir.FullName}");
            Sh($"btrfs quota enable {dir.FullName} && btrfs subvolume create {dir.FullName}/sub >/dev/null && chown nobody {dir.FullName}/sub && btrfs qgroup limit 256k {dir.FullName}/sub");
            var file = $"{dir.FullName}/sub/f";
            // dd exits right after the refused write
            var run = WhyfailRunner.Run("-u", "nobody", "--", "/bin/sh", "-c", $"dd if=/dev/zero of={file} bs=4096 count=1000 conv=fsync 2>/dev/null; exit 0");
            var ev = run.Syscalls.First(e => e.GetProperty("errno").GetString() == "EDQUOT");
            var text = Text(ev, "fs.quota");
            Assert.Contains($"the btrfs file system mounted at \"{dir.FullName}\"", text);
            Assert.Matches(@"btrfs quota group 0/\d+ (is used up: [\d.]+ KiB referenced of a 256 KiB limit|has a limit of 256 KiB referenced)", text);
        }
        finally
        {
            Process.Start("umount", [dir.FullName])!.WaitForExit();
            dir.Delete(true);
            File.Delete(img);
        }
    }

    [Fact]
    public void KillOfAStalePid()
    {
        var dir = Directory.CreateTempSubdirectory("whyfail-pidfile-");
        try
        {
            // a pid file naming a process that has exited and been reaped
            var pidfile = Path.Combine(dir.FullName, "daemon.pid");
            var run = WhyfailRunner.Run("--", "/bin/sh", "-c", $"true & echo $! > {pidfile}; wait; kill $(cat {pidfile}); exit 0");
            var pid = File.ReadAllText(pidfile).Trim();
            var ev = run.Failures("kill", "ESRCH").First();
            var text = Text(ev, "signal.no_process");
            Assert.Contains($"no process with pid {pid} existed", text);
            Assert.Contains("a zombie, exited but not yet reaped, would still have accepted the signal", text);
        }
        finally
        {
            dir.Delete(true);
        }
    }

    [Fact]
    public void PtraceRequestOnAProcessNotTraced()
    {
        var run = WhyfailRunner.Run("--", P("ptrace_request"), "untraced");
        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains("is not being traced by anyone (TracerPid 0)", Text(run.Failures("ptrace", "ESRCH").First(), "ptrace.no_tracee"));
    }

    [Fact]
    public void PtraceRequestOnARunningTracee()
    {
        var run = WhyfailRunner.Run("--", P("ptrace_request"), "running");
        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains("is traced by the caller but not stopped (state S", Text(run.Failures("ptrace", "ESRCH").First(), "ptrace.no_tracee"));
    }

    [Fact]
    public void TmpfileWithoutWriteAccess()
    {
        var run = WhyfailRunner.Run("--", P("tmpfile_open"), Path.GetTempPath(), "ro");
        Assert.True(run.ExitCode == 1, run.ToString());
        var ev = run.Syscalls.First(e => e.GetProperty("errno").GetString() == "EINVAL" && e.GetProperty("syscall").GetString() is "open" or "openat");
        Assert.Contains("O_TMPFILE was asked with access mode O_RDONLY", Text(ev, "open.tmpfile"));
    }

    [Fact]
    public void TmpfileOnAFileSystemWithoutIt()
    {
        // procfs has no tmpfile operation (as vfat and 9p): O_TMPFILE | O_RDWR is refused with EOPNOTSUPP
        var run = WhyfailRunner.Run("--", P("tmpfile_open"), "/proc", "rw");
        Assert.True(run.ExitCode == 1, run.ToString());
        var ev = run.Syscalls.First(e => e.GetProperty("errno").GetString() == "EOPNOTSUPP" && e.GetProperty("syscall").GetString() is "open" or "openat");
        Assert.Contains("the directory \"/proc\" is on the proc file system mounted at \"/proc\", which does not support O_TMPFILE", Text(ev, "open.tmpfile"));
    }
}
