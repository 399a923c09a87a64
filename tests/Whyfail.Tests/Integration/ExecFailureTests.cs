using System.Text.Json;
using Xunit;

namespace Whyfail.Tests.Integration;

/// <summary>
/// Failures of execve that depend on state counted or found in the kernel at the failure, by short-lived programs:
/// E2BIG (argv and envp against MAX_ARG_STRLEN and the stack limit's quarter), ETXTBSY from the caller's own
/// descriptor open for writing, and a shell's search through PATH that finds nothing.
/// </summary>
[Collection("tracing")]
[Trait("suite", "integration")]
public class ExecFailureTests
{
    private static string Text(JsonElement ev, string rule, out string? fix)
    {
        var e = ev.GetProperty("explanation").EnumerateArray().FirstOrDefault(x => x.GetProperty("rule").GetString() == rule);
        Assert.True(e.ValueKind == JsonValueKind.Object, $"expected {rule}: {ev}");
        fix = e.TryGetProperty("fix", out var f) && f.ValueKind == JsonValueKind.String ? f.GetString() : null;
        return e.GetProperty("text").GetString()!;
    }

    [Fact]
    public void ArgumentsTooBigForEachLimit()
    {
        var p = WhyfailRunner.Program("exec_big");
        // one run, three failing execs that exit at once: a string over MAX_ARG_STRLEN, an environment over ARG_MAX
        // (the stack limit lowered to 256 KiB), and a shell's argument list over it
        var run = WhyfailRunner.Run("--", "/bin/sh", "-c", $"{p} long; {p} env; (ulimit -s 256; /bin/true $(seq 1 20000)); exit 0");
        var fails = run.Failures("execve", "E2BIG").ToList();
        Assert.True(fails.Count == 3, $"expected 3 execve E2BIG, got {fails.Count}\n{run}");

        var longText = Text(fails[0], "exec.args_too_big", out var longFix);
        Assert.Contains("argument 1 is 131,073 bytes long with its NUL, more than MAX_ARG_STRLEN (131,072 bytes, 32 pages)", longText);
        Assert.Contains("no limit raises MAX_ARG_STRLEN", longFix);
        var x = fails[0].GetProperty("context").GetProperty("exec_args");
        Assert.Equal(2, x.GetProperty("argv_strings").GetInt64());
        Assert.Equal(5 + 131_073, x.GetProperty("argv_bytes").GetInt64());
        Assert.Equal(0, x.GetProperty("envp_strings").GetInt64());
        Assert.True(x.GetProperty("complete").GetBoolean());
        Assert.Equal("argv", x.GetProperty("longest_in").GetString());
        Assert.Equal(1, x.GetProperty("longest_index").GetInt64());

        var envText = Text(fails[1], "exec.args_too_big", out var envFix);
        Assert.Contains("1 argument string (5 bytes with their NULs), 40 environment strings (163,840 bytes), the program's name (10 bytes) and 41 pointers of 8 bytes (328 bytes)", envText);
        Assert.Contains("the arguments and environment need 164,183 bytes on the new program's stack", envText);
        Assert.Contains("execve allows 131,072 bytes: ARG_MAX, the least execve allows (the stack limit (ulimit -s) is 256 KiB", envText);
        Assert.Contains("the environment is the larger part", envFix);
        // the longest string's vector: a flag of the context (WF_CTXF_EXEC_LONGEST_ENVP), all 40 of 4,096 bytes: the first
        var y = fails[1].GetProperty("context").GetProperty("exec_args");
        Assert.Equal("envp", y.GetProperty("longest_in").GetString());
        Assert.Equal(0, y.GetProperty("longest_index").GetInt64());
        Assert.Equal(4_096, y.GetProperty("longest").GetInt64());

        var shText = Text(fails[2], "exec.args_too_big", out var shFix);
        // "/bin/true" and 1…20000: 10 + 108,894 bytes; 20,001 + the environment's pointers are already over 128 KiB
        Assert.Contains("20,001 argument strings (108,904 bytes with their NULs)", shText);
        Assert.Matches(@"the pointers alone need 1\d\d,\d{3} bytes, not below the 131,072 bytes: ARG_MAX, the least execve allows", shText);
        Assert.Contains("xargs", shFix);
        Assert.Contains("or raise the stack limit: ulimit -s", shFix);
        Assert.Equal(20_001, fails[2].GetProperty("context").GetProperty("exec_args").GetProperty("argv_strings").GetInt64());
    }

    [Fact]
    public void TheCommandsOwnFailedExecIsTheVerdictsCulprit()
    {
        var dir = Directory.CreateTempSubdirectory("whyfail-noexec-");
        try
        {
            // not executable: the launcher's child fails execve with EACCES, never becomes the command, and exits 126
            var prog = Path.Combine(dir.FullName, "report-tool");
            File.WriteAllText(prog, "#!/bin/sh\nexit 0\n");
            File.SetUnixFileMode(prog, (UnixFileMode)Convert.ToInt32("644", 8));
            var run = WhyfailRunner.Run("--", prog);
            Assert.True(run.ExitCode == 126, run.ToString());
            var exec = Assert.Single(run.Failures("execve", "EACCES"));
            var v = run.Lines.Single(l => l.GetProperty("type").GetString() == "verdict");
            Assert.Equal(exec.GetProperty("pid").GetInt32(), v.GetProperty("pid").GetInt32());
            Assert.Equal("report-tool", v.GetProperty("comm").GetString());
            Assert.Equal(126, v.GetProperty("exit_status").GetInt32());
            var culprit = Assert.Single(v.GetProperty("culprits").EnumerateArray());
            Assert.Equal("execve", culprit.GetProperty("syscall").GetString());
            Assert.Equal(exec.GetProperty("ts_ns").GetUInt64(), culprit.GetProperty("ts_ns").GetUInt64());
        }
        finally
        {
            dir.Delete(true);
        }
    }

    [Fact]
    public void TextBusyFromTheCallersOwnDescriptor()
    {
        var dir = Directory.CreateTempSubdirectory("whyfail-txtbsy-");
        try
        {
            var prog = Path.Combine(dir.FullName, "tb");
            File.Copy("/bin/true", prog);
            File.SetUnixFileMode(prog, (UnixFileMode)Convert.ToInt32("755", 8));
            // the shell keeps the file open for writing on its descriptor 3, then executes it, and exits
            var run = WhyfailRunner.Run("--", "/bin/sh", "-c", $"exec 3>>{prog}; {prog}; exit 0");
            var ev = run.Failures("execve", "ETXTBSY").FirstOrDefault();
            Assert.True(ev.ValueKind == JsonValueKind.Object, run.ToString());
            var text = Text(ev, "file.text_busy", out var fix);
            Assert.Contains($"\"{prog}\" was open for writing by pid {ev.GetProperty("pid").GetInt32()} itself, the process that called execve: its descriptor 3 (write-only (O_WRONLY))", text);
            Assert.Contains("exec 3>&-", fix);
            var writers = ev.GetProperty("context").GetProperty("writers");
            Assert.Contains(writers.EnumerateArray(), w => w.GetProperty("fd").GetInt32() == 3 && w.GetProperty("target").GetString() == prog);
        }
        finally
        {
            dir.Delete(true);
        }
    }

    [Fact]
    public void CommandNotFoundNamesEveryDirectoryOfPath()
    {
        var dirs = Enumerable.Range(0, 3).Select(_ => Directory.CreateTempSubdirectory("whyfail-path-").FullName).ToList();
        try
        {
            var run = WhyfailRunner.Run("--", "/bin/sh", "-c", $"PATH={string.Join(':', dirs)}; nosuchcmd-wf; exit 0");
            // the shell looks in each directory (stat or execve, depending on the shell); the last miss is the search's end
            var ev = run.Syscalls.LastOrDefault(e => e.GetProperty("errno").GetString() == "ENOENT" &&
                e.GetProperty("explanation").EnumerateArray().Any(x => x.GetProperty("rule").GetString() == "path.search"));
            Assert.True(ev.ValueKind == JsonValueKind.Object, run.ToString());
            var text = Text(ev, "path.search", out var fix);
            Assert.Contains($"looked for \"nosuchcmd-wf\" in 3 directories, one after the other, and none had it: {string.Join(", ", dirs.Select(d => $"\"{d}\""))}", text);
            Assert.Contains("add its directory to the search path (PATH for commands)", fix);
        }
        finally
        {
            foreach (var d in dirs) Directory.Delete(d, true);
        }
    }
}
