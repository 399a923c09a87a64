using System.Diagnostics;
using System.Text.Json;
using Whyfail.Tests.Integration;

namespace Whyfail.Tests.Graph;

/// <summary>Runs the real `whyfail graph` and reads what it wrote (-o FILE).</summary>
public static class GraphRunner
{
    public sealed record Result(int ExitCode, string Output, string Stderr)
    {
        public List<JsonElement> Lines => Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonDocument.Parse(l, new JsonDocumentOptions { MaxDepth = 2048 }).RootElement.Clone()).ToList();
        public IEnumerable<JsonElement> Graphs => Lines.Where(l => l.GetProperty("type").GetString() == "graph");
        public override string ToString() => $"exit {ExitCode}\noutput:\n{Output}\nstderr:\n{Stderr}";
    }

    /// <summary>whyfail graph -o FILE ARGS, with a timeout; the output file is read and removed.</summary>
    public static Result Run(IEnumerable<string> args, TimeSpan timeout, Action<Process>? whileRunning = null)
    {
        var outFile = Path.Combine(Path.GetTempPath(), $"whyfail-graph-{Guid.NewGuid():N}.out");
        try
        {
            using var p = Process.Start(WhyfailRunner.StartInfo(new[] { "graph", "-o", outFile }.Concat(args)))!;
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            whileRunning?.Invoke(p);
            if (!p.WaitForExit(timeout))
            {
                p.Kill(entireProcessTree: true);
                throw new TimeoutException($"whyfail graph {string.Join(' ', args)} did not finish within {timeout}");
            }
            p.WaitForExit();
            return new Result(p.ExitCode, File.Exists(outFile) ? File.ReadAllText(outFile) : "", stderr.Result + stdout.Result);
        }
        finally
        {
            File.Delete(outFile);
        }
    }

    /// <summary>Every call of a JSON tree, parents first.</summary>
    public static IEnumerable<JsonElement> Calls(JsonElement node)
    {
        yield return node;
        if (node.TryGetProperty("calls", out var calls))
            foreach (var c in calls.EnumerateArray())
                foreach (var n in Calls(c))
                    yield return n;
    }

    public static List<string> Strings(JsonElement array) => array.EnumerateArray().Select(e => e.GetString()!).ToList();
}
