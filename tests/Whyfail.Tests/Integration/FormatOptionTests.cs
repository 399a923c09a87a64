using System.Text.Json;
using Xunit;

namespace Whyfail.Tests.Integration;

/// <summary>--format chooses the output format by name; --json is its alias; a wrong name is a usage error.</summary>
[Collection("tracing")]
[Trait("suite", "integration")]
public class FormatOptionTests
{
    [Fact]
    public void FormatJsonWritesJsonLinesLikeJson()
    {
        string path = Path.Combine("/nonexistent-whyfail", $"fmt-{Guid.NewGuid():N}");
        var (exit, text, stderr) = WhyfailRunner.RunText("--format", "json", "--", WhyfailRunner.Program("open_missing"), path);
        Assert.True(exit == 1, stderr);
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Contains(lines, l => l.GetProperty("type").GetString() == "syscall" && l.GetProperty("syscall").GetString() == "openat"
            && l.GetProperty("errno").GetString() == "ENOENT" && l.GetProperty("args")[1].GetString() == $"\"{path}\"");
        Assert.Equal("summary", lines[^1].GetProperty("type").GetString());
    }

    [Fact]
    public void AnUnknownFormatOrAContradictionWithJsonIsAUsageError()
    {
        var (exit, _, stderr) = WhyfailRunner.RunText("--format", "yaml", "--", "true");
        Assert.True(exit == 2, stderr);
        Assert.Contains("--format yaml: unknown format (known: text, json)", stderr);

        (exit, _, stderr) = WhyfailRunner.RunText("--json", "--format", "text", "--", "true");
        Assert.True(exit == 0, stderr); // text is the default: --json decides
        (exit, _, stderr) = WhyfailRunner.RunText("--help");
        Assert.Contains("--format <text|json>", stderr);
    }
}
