namespace Whyfail.Analysis.Origin.Source;

/// <summary>whyfail doctor's row about source lines: the debug vmlinux (checked as a trace would) and the symbolizer.</summary>
public static class SourceDoctor
{
    public static (bool Ok, string Detail, string Unlocks) DebugInfo(string release)
    {
        var found = DebugInfoLocator.Find(null, null, out var missing, release, useDebuginfod: false);
        string? tool = Symbolizer.LlvmNames.Append(Symbolizer.Addr2Line).FirstOrDefault(n => Symbolizer.FindOnPath(n) != null);
        string unlocks = "source file:line of each origin, its exact error site and (with --kernel-src) the code around it";
        if (found == null)
            return (false, missing!, unlocks);
        if (tool == null)
            return (false, $"{found.Path}, but neither llvm-symbolizer nor addr2line is installed", "apt-get install llvm (or binutils): " + unlocks);
        return (true, $"{found.Path}{(found.BuildId != null ? " (build id matches)" : "")}, symbolized with {tool}", unlocks);
    }
}
