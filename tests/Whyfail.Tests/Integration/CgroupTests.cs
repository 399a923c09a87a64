using System.Diagnostics;
using Xunit;

namespace Whyfail.Tests.Integration;

/// <summary>
/// Each event carries the caller's cgroup (the kernel's cgroup id, resolved to its path) and what the path
/// names: here a real cgroup v2 directory made by the test and named as docker's systemd driver names a
/// container's scope; the failing program is moved into it before it runs.
/// </summary>
[Collection("tracing")]
[Trait("suite", "integration")]
// In the 6.12 lab guest the traced shell did not finish within 3 minutes (2026-12-02), not yet investigated: host only for now.
[Trait("lab", "skip")]
public class CgroupTests
{
    [FactRequiringCgroup2]
    public void AFailureInADockerShapedCgroupNamesTheContainer()
    {
        string id = (Guid.NewGuid().ToString("N") + Guid.NewGuid().ToString("N")).ToLowerInvariant();
        string parent = Path.Combine(FactRequiringCgroup2Attribute.Root!, $"wf-test-{Guid.NewGuid():N}"[..20]);
        string scope = Path.Combine(parent, $"docker-{id}.scope");
        Directory.CreateDirectory(scope);
        try
        {
            string path = $"/nonexistent-whyfail/cgroup-{Guid.NewGuid():N}";
            string shell = $"echo $$ > {scope}/cgroup.procs && exec {WhyfailRunner.Program("open_missing")} {path}";
            var run = WhyfailRunner.Run("--", "/bin/sh", "-c", shell);
            Assert.True(run.ExitCode == 1, run.ToString());
            var ev = Assert.Single(run.Failures("openat", "ENOENT"), e => e.GetProperty("args")[1].GetString() == $"\"{path}\"");
            string rel = scope[FactRequiringCgroup2Attribute.Root!.Length..];
            Assert.Equal(rel, ev.GetProperty("cgroup").GetString());
            Assert.Equal(Inode(scope), ev.GetProperty("cgroup_id").GetUInt64());
            var c = ev.GetProperty("container");
            Assert.Equal("docker", c.GetProperty("runtime").GetString());
            Assert.Equal(id, c.GetProperty("id").GetString());
            // The shell's own calls before it moved itself ran in the test's cgroup, not the container's.
            Assert.Contains(run.Syscalls, e => e.GetProperty("cgroup").GetString() != rel);

            var (code, text, stderr) = WhyfailRunner.RunText("--", "/bin/sh", "-c", shell);
            Assert.True(code == 1, stderr);
            Assert.Matches($@"\[pid \d+ in docker {id[..12]}\] openat\(AT_FDCWD, ""{path}""", text);
        }
        finally
        {
            Directory.Delete(scope);
            Directory.Delete(parent);
        }
    }

    private static ulong Inode(string path)
    {
        var psi = new ProcessStartInfo("stat", ["-c", "%i", path]) { RedirectStandardOutput = true };
        using var p = Process.Start(psi)!;
        return ulong.Parse(p.StandardOutput.ReadToEnd().Trim());
    }
}
