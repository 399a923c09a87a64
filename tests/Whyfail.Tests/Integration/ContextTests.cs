using System.Diagnostics;
using System.Text.Json;
using Xunit;

namespace Whyfail.Tests.Integration;

/// <summary>
/// Failures of short-lived programs (they exit right after failing), explained from the context the kernel side
/// captured at the failure: limits, descriptors, cwd, credentials, seccomp. Every explanation must be the one a
/// long-lived process gets, without the process.gone qualification.
/// </summary>
[Collection("tracing")]
[Trait("suite", "integration")]
public class ContextTests
{
    private static string P(string name) => WhyfailRunner.Program(name);

    internal static List<string> Rules(JsonElement ev) =>
        ev.GetProperty("explanation").EnumerateArray().Select(x => x.GetProperty("rule").GetString()!).ToList();

    private static string Text(JsonElement ev, string rule) =>
        ev.GetProperty("explanation").EnumerateArray().First(x => x.GetProperty("rule").GetString() == rule).GetProperty("text").GetString()!;

    private static void Explained(JsonElement ev, string rule)
    {
        var rules = Rules(ev);
        Assert.True(rules.Contains(rule), $"expected {rule}: {ev}");
        Assert.DoesNotContain("process.gone", rules);
        Assert.True(ev.TryGetProperty("context", out var ctx) && ctx.ValueKind == JsonValueKind.Object, $"no context: {ev}");
    }

    [Fact]
    public void EmfileFromTheLimitAtTheFailure()
    {
        var run = WhyfailRunner.Run("--", P("open_many"), "12");
        Assert.True(run.ExitCode == 1, run.ToString());
        var ev = run.Failures("openat", "EMFILE").First();
        Explained(ev, "fd.limit");
        Assert.Contains("RLIMIT_NOFILE soft limit was 12", Text(ev, "fd.limit"));
        var ctx = ev.GetProperty("context");
        Assert.True(ctx.GetProperty("open_fds").GetInt32() >= 12, ctx.ToString());
        Assert.Equal(12, ctx.GetProperty("limits").GetProperty("Max open files").GetProperty("soft").GetInt32());
    }

    [Fact]
    public void BadDescriptorAndNotSeekable()
    {
        var run = WhyfailRunner.Run("--", P("fd_errors"));
        Assert.True(run.ExitCode == 0, run.ToString());
        var notOpen = Assert.Single(run.Failures("read", "EBADF"));
        Explained(notOpen, "fd.bad");
        Assert.Contains("descriptor 77 (argument 0) was not open", Text(notOpen, "fd.bad"));
        var readOnly = Assert.Single(run.Failures("write", "EBADF"));
        Explained(readOnly, "fd.bad");
        Assert.Contains("\"/dev/null\", and it was opened read-only (O_RDONLY), so it cannot be written", Text(readOnly, "fd.bad"));
        var seek = Assert.Single(run.Failures("lseek", "ESPIPE"));
        Explained(seek, "fd.not_seekable");
        Assert.Matches(@"is a pipe \(pipe:\[\d+\]\)", Text(seek, "fd.not_seekable"));
    }

    [Fact]
    public void NoSpaceThroughAnInheritedDescriptor()
    {
        var dir = Directory.CreateTempSubdirectory("whyfail-small-");
        var mount = Process.Start("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", dir.FullName])!;
        mount.WaitForExit();
        try
        {
            Assert.True(mount.ExitCode == 0, "cannot mount a small tmpfs (the test runs as root)");
            var file = Path.Combine(dir.FullName, "fill");
            // dd writes to its standard output, a descriptor its shell opened on the small file system.
            var run = WhyfailRunner.Run("--", "/bin/sh", "-c", $"dd if=/dev/zero bs=4096 count=100 > {file} 2>/dev/null; exit 0");
            Assert.True(run.ExitCode == 0, run.ToString());
            var ev = run.Failures("write", "ENOSPC").First();
            Explained(ev, "fs.no_space");
            Assert.Contains($"descriptor 1 (\"{file}\") is on the file system mounted at \"{dir.FullName}\"", Text(ev, "fs.no_space"));
            Assert.Contains("which is full", Text(ev, "fs.no_space"));
        }
        finally
        {
            Process.Start("umount", [dir.FullName])!.WaitForExit();
            dir.Delete(true);
        }
    }

    [Fact]
    public void PermissionDeniedThroughTheWorkingDirectory()
    {
        // nobody may enter the top directory, not the private one below it
        var top = Directory.CreateTempSubdirectory("whyfail-cwd-");
        try
        {
            File.SetUnixFileMode(top.FullName, (UnixFileMode)0b111_101_101);
            var secret = Directory.CreateDirectory(Path.Combine(top.FullName, "private"));
            File.SetUnixFileMode(secret.FullName, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            File.WriteAllText(Path.Combine(secret.FullName, "data"), "x");
            var run = WhyfailRunner.Run("-u", "nobody", "--", P("cwd_open"), top.FullName, "private/data");
            Assert.True(run.ExitCode == 1, run.ToString());
            var ev = Assert.Single(run.Failures("openat", "EACCES"));
            Explained(ev, "path.permission_denied");
            var text = Text(ev, "path.permission_denied");
            Assert.Contains($"{top.FullName}/private", text);
            Assert.Equal(top.FullName, ev.GetProperty("context").GetProperty("cwd").GetProperty("target").GetString());
            Assert.Equal(65534, ev.GetProperty("context").GetProperty("uids")[3].GetInt32()); // fsuid
        }
        finally
        {
            top.Delete(true);
        }
    }

    [Fact]
    public void SeccompRefusalWithoutReadingTheFilter()
    {
        // "direct": the filtered process is the command itself, and it exits at once (stdin at end of file)
        var run = WhyfailRunner.Run("--", "/bin/sh", "-c", $"exec {P("seccomp_deny")} direct < /dev/null");
        var ev = run.Failures("mkdir", "EPERM").First();
        Explained(ev, "seccomp.blocked");
        var ctx = ev.GetProperty("context");
        Assert.Equal(2, ctx.GetProperty("seccomp_mode").GetInt32());
        // the filters' programs as the kernel side copied them at the failure, run after the process has exited
        Assert.Equal(2, ctx.GetProperty("seccomp_programs").GetInt32());
        Assert.Contains("filter 1 of 2 returns ERRNO(1) for mkdir; the filters as they were at the failure)", Text(ev, "seccomp.blocked"));
        var eacces = run.Failures("mkdir", "EACCES").First();
        Assert.Contains("filter 2 of 2 returns ERRNO(13) for mkdir; the filters as they were at the failure)", Text(eacces, "seccomp.blocked"));
        // a call the filters let through is not blamed on them
        Assert.DoesNotContain(run.Syscalls.Where(e => e.GetProperty("errno").GetString() != "EPERM" && e.GetProperty("errno").GetString() != "EACCES"),
            e => Rules(e).Contains("seccomp.blocked"));
    }

    [Fact]
    public void NoContextIsCopiedWhereNothingReadsIt()
    {
        // --no-explain without origin probes: no rule runs, so the kernel side copies neither the context nor the
        // filters; the failures themselves are all there, decoded
        var run = WhyfailRunner.Run("--no-explain", "--deep", "none", "--", "/bin/sh", "-c", $"exec {P("seccomp_deny")} direct < /dev/null");
        Assert.StartsWith("\"", run.Failures("mkdir", "EPERM").First().GetProperty("args")[0].GetString());
        Assert.StartsWith("\"", run.Failures("mkdir", "EACCES").First().GetProperty("args")[0].GetString());
        Assert.DoesNotContain(run.Syscalls, e => e.TryGetProperty("context", out _));
        Assert.All(run.Syscalls, e => Assert.Equal(0, e.GetProperty("explanation").GetArrayLength()));
        // the same command explained: each failure carries its context and the filters copied at it
        var explained = WhyfailRunner.Run("--deep", "none", "--", "/bin/sh", "-c", $"exec {P("seccomp_deny")} direct < /dev/null");
        var ctx = explained.Failures("mkdir", "EACCES").First().GetProperty("context");
        Assert.Equal(2, ctx.GetProperty("seccomp_programs").GetInt32());
    }

    [Fact]
    public void SeccompFiltersOfEachThreadAndLongerThanOneRecordAreCopiedWhole()
    {
        // "big": filter 1 is 2 504 instructions (three of the kernel side's records); "thread": a second thread adds a
        // third filter of its own and fails under it; the process exits at once (stdin at end of file)
        var run = WhyfailRunner.Run("--", "/bin/sh", "-c", $"exec {P("seccomp_deny")} direct thread big < /dev/null");
        var eperm = run.Failures("mkdir", "EPERM").First();
        Assert.Equal(2, eperm.GetProperty("context").GetProperty("seccomp_programs").GetInt32());
        Assert.Contains("filter 1 of 2 returns ERRNO(1) for mkdir; the filters as they were at the failure)", Text(eperm, "seccomp.blocked"));
        var erofs = run.Failures("mkdir", "EROFS").First();
        Assert.NotEqual(eperm.GetProperty("tid").GetInt32(), erofs.GetProperty("tid").GetInt32());
        Assert.Equal(3, erofs.GetProperty("context").GetProperty("seccomp_programs").GetInt32());
        Assert.Contains("filter 3 of 3 returns ERRNO(30) for mkdir; the filters as they were at the failure)", Text(erofs, "seccomp.blocked"));
    }

    // The command's own exec, by the launcher's child, is reported and explained; whyfail exits as a shell would.
    private static JsonElement CommandExec(WhyfailRun run, int status, string errno)
    {
        Assert.True(run.ExitCode == status, run.ToString());
        return Assert.Single(run.Failures("execve", errno));
    }

    [Fact]
    public void CommandOnANoexecMount()
    {
        var dir = Directory.CreateTempSubdirectory("whyfail-noexec-");
        var mount = Process.Start("mount", ["-t", "tmpfs", "-o", "noexec,size=4m", "tmpfs", dir.FullName])!;
        mount.WaitForExit();
        try
        {
            Assert.True(mount.ExitCode == 0, "cannot mount a noexec tmpfs (the test runs as root)");
            var prog = Path.Combine(dir.FullName, "prog");
            File.Copy(P("fd_errors"), prog);
            Explained(CommandExec(WhyfailRunner.Run("--", prog), 126, "EACCES"), "exec.noexec_mount");
        }
        finally
        {
            Process.Start("umount", [dir.FullName])!.WaitForExit();
            dir.Delete(true);
        }
    }

    [Fact]
    public void CommandWithoutExecuteBitAndWithAMissingInterpreter()
    {
        var dir = Directory.CreateTempSubdirectory("whyfail-exec-");
        try
        {
            var plain = Path.Combine(dir.FullName, "plain");
            File.Copy(P("fd_errors"), plain);
            File.SetUnixFileMode(plain, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            var ev = CommandExec(WhyfailRunner.Run("--", plain), 126, "EACCES");
            Explained(ev, "path.permission_denied");
            Assert.Contains("no execute bit is set at all", Text(ev, "path.permission_denied"));

            var script = Path.Combine(dir.FullName, "script");
            File.WriteAllText(script, "#!/nonexistent-whyfail/interp\necho hi\n");
            File.SetUnixFileMode(script, (UnixFileMode)0b111_101_101);
            ev = CommandExec(WhyfailRunner.Run("--", script), 127, "ENOENT");
            Explained(ev, "exec.missing_interpreter");
            Assert.Contains("/nonexistent-whyfail/interp", Text(ev, "exec.missing_interpreter"));
        }
        finally
        {
            dir.Delete(true);
        }
    }

    [Fact]
    public void CommandUnderAPrivateDirectoryAsNobody()
    {
        var dir = Directory.CreateTempSubdirectory("whyfail-private-");
        try
        {
            File.SetUnixFileMode(dir.FullName, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            var prog = Path.Combine(dir.FullName, "prog");
            File.Copy(P("fd_errors"), prog);
            var ev = CommandExec(WhyfailRunner.Run("-u", "nobody", "--", prog), 126, "EACCES");
            Explained(ev, "path.permission_denied");
            Assert.Contains($"\"{dir.FullName}\" has mode 0700", Text(ev, "path.permission_denied"));
            Assert.Equal(65534, ev.GetProperty("context").GetProperty("uids")[1].GetInt32());
        }
        finally
        {
            dir.Delete(true);
        }
    }

    [Fact]
    public void CommandNotFoundNamesThePathDirectories()
    {
        var (code, _, stderr) = WhyfailRunner.RunText("--", "whyfail-no-such-command");
        Assert.Equal(127, code);
        Assert.Contains("looked in ", stderr);
        Assert.Contains("/usr/bin", stderr);
    }
}
