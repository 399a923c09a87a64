using System.Text.Json;
using Xunit;

namespace Whyfail.Tests.Integration;

/// <summary>
/// Cases of the side-by-side with libexplain (bench/libexplain) where whyfail was less precise or said something
/// untrue, each with the real short-lived program that fails: the explanation must name the cause from the state at
/// the failure, without the process.gone qualification where the facts were captured.
/// </summary>
[Collection("tracing")]
[Trait("suite", "integration")]
public class LibexplainCaseTests
{
    private static List<JsonElement> Explanations(JsonElement ev) => ev.GetProperty("explanation").EnumerateArray().ToList();

    private static string Text(JsonElement ev, string rule)
    {
        var x = Explanations(ev).FirstOrDefault(x => x.GetProperty("rule").GetString() == rule);
        Assert.True(x.ValueKind == JsonValueKind.Object, $"expected {rule}: {ev}");
        return x.GetProperty("text").GetString()!;
    }

    private static string Rules(JsonElement ev) => string.Join(",", Explanations(ev).Select(x => x.GetProperty("rule").GetString()));

    [Fact]
    public void RenameOfADirectoryIntoItself()
    {
        var dir = Directory.CreateTempSubdirectory("whyfail-le-mv-");
        try
        {
            Directory.CreateDirectory(Path.Combine(dir.FullName, "d", "sub"));
            var from = Path.Combine(dir.FullName, "d");
            var run = WhyfailRunner.Run("--", "mv", from, Path.Combine(from, "sub", "x"));
            Assert.True(run.ExitCode == 1, run.ToString());
            var ev = run.Syscalls.First(e => e.GetProperty("syscall").GetString()!.StartsWith("rename") && e.GetProperty("errno").GetString() == "EINVAL");
            Assert.Equal($"\"{from}\" is a directory and the destination \"{from}/sub/x\" lies inside it (through \"{from}\"): a directory cannot be moved into itself or one of its own subdirectories",
                Text(ev, "path.rename_into_itself"));
            Assert.DoesNotContain("process.gone", Rules(ev));
        }
        finally { dir.Delete(true); }
    }

    [Fact]
    public void LseekToANegativePositionOrWithAnUnknownWhence()
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, "12345");
            var run = WhyfailRunner.Run("--", WhyfailRunner.Program("seek_bad"), file);
            Assert.True(run.ExitCode == 0, run.ToString());
            var evs = run.Failures("lseek", "EINVAL").ToList();
            Assert.Equal(3, evs.Count);
            Assert.Equal($"SEEK_SET with offset -1 on descriptor 3 (\"{file}\") asks for position -1 (the start of the file plus -1): a file position cannot be negative",
                Text(evs[0], "fd.seek_invalid"));
            Assert.Equal($"SEEK_END with offset -1000000 on descriptor 3 (\"{file}\") asks for position -999995 (its size, 5 bytes plus -1000000): a file position cannot be negative",
                Text(evs[1], "fd.seek_invalid"));
            Assert.StartsWith("whence 7 is not one of SEEK_SET (0)", Text(evs[2], "fd.seek_invalid"));
            Assert.All(evs, e => Assert.DoesNotContain("process.gone", Rules(e)));
        }
        finally { File.Delete(file); }
    }

    [Fact]
    public void BrokenPipeOfAWriterThatHasExited()
    {
        // yes ignores SIGPIPE (inherited from the shell), gets EPIPE when `true` has exited, and exits at once.
        var run = WhyfailRunner.Run("--", "/bin/sh", "-c", "trap '' PIPE; yes | true");
        var ev = run.Failures("write", "EPIPE").First();
        var text = Text(ev, "pipe.no_reader");
        Assert.Matches(@"^descriptor 1 is the write end of the pipe pipe:\[\d+\], and no process has its read end open any more \(the reader closed it or exited\); pid \d+ ignores SIGPIPE, so it got EPIPE instead of being killed$", text);
        Assert.DoesNotContain("process.gone", Rules(ev));
    }

    // ETXTBSY from the shell's own descriptor: ExecFailureTests.TextBusyFromTheCallersOwnDescriptor (the writer is now
    // captured at the failure and named).

    [Fact]
    public void EmptyPathWithAClosedDescriptorIsNotCalledADirectory()
    {
        var run = WhyfailRunner.Run("--", "/bin/sh", "-c", "cat <&-");
        var ev = run.Syscalls.First(e => e.GetProperty("errno").GetString() == "EBADF" && e.GetProperty("comm").GetString() == "cat");
        var text = Text(ev, "fd.bad");
        Assert.Contains("descriptor 0 (the file itself: an empty path with AT_EMPTY_PATH) was not open", text);
        Assert.DoesNotContain("directory descriptor", text);
    }
}
