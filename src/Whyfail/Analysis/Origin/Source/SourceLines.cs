using Whyfail.Analysis.Origin.Kernel;
using Whyfail.Events;

namespace Whyfail.Analysis.Origin.Source;

/// <summary>
/// Adds source lines to origins: the origin's file:line (its exact error site, else the function),
/// the call lines of the chain (from the kernel stack, with inlined frames), the error sites of the
/// errno in the origin function, and a snippet of the exact site when the kernel source is there.
/// Owns the symbolizer child process.
/// </summary>
public sealed class SourceLines : IDisposable
{
    private readonly DebugInfo _debug;
    private readonly ElfImage _image;
    private readonly ISymbolizer _symbolizer;
    private readonly ErrorSiteFinder _sites;
    private readonly KernelSource? _source;
    private readonly Kallsyms? _kallsyms;
    private Action<string>? _notice;
    private bool _failureTold;

    private SourceLines(DebugInfo debug, ElfImage image, ISymbolizer symbolizer, KernelSource? source, Kallsyms? kallsyms)
    {
        (_debug, _image, _symbolizer, _source, _kallsyms) = (debug, image, symbolizer, source, kallsyms);
        _sites = new ErrorSiteFinder(image, symbolizer, source);
    }

    public DebugInfo DebugInfo => _debug;
    public string Tool => _symbolizer.Tool;
    public KernelSource? Source => _source;
    public ErrorSiteFinder Sites => _sites;

    /// <summary>
    /// Source lines for the running kernel, or null with <paramref name="missing"/> saying what is missing
    /// and how to get it. <paramref name="kernelSrc"/> (--kernel-src) is optional; without it, sources come from
    /// debuginfod when DEBUGINFOD_URLS is set.
    /// </summary>
    public static SourceLines? Open(string? vmlinux, string? kernelSrc, Kallsyms? kallsyms, out string? missing, Action<string>? progress = null)
    {
        var debug = DebugInfoLocator.Find(vmlinux, kallsyms, out missing, progress: progress);
        return debug == null ? null : Open(debug, kernelSrc, kallsyms, out missing, progress);
    }

    /// <summary>
    /// Source lines for a tracing session, with one notice saying where they come from, or (null) what is
    /// missing and which package provides it.
    /// </summary>
    public static SourceLines? ForSession(string? vmlinux, string? kernelSrc, Kallsyms kallsyms, Action<string> notice)
    {
        string srcWhy = "";
        kernelSrc ??= KernelSource.DistributionTarball(KernelBuildId.Release(), out srcWhy);
        var lines = Open(vmlinux, kernelSrc, kallsyms, out var missing, notice);
        if (lines == null)
        {
            notice($"no source lines: {missing}. Origins are shown as function names.");
            return null;
        }
        var d = lines.DebugInfo;
        string slide = d.Slide == 0 ? "no KASLR offset" : $"KASLR offset {(d.Slide < 0 ? "-" : "+")}0x{Math.Abs(d.Slide):x}";
        string src = lines.Source != null ? $"kernel source {lines.Source.Description}" : missing ?? srcWhy;
        lines._notice = notice;
        notice($"source lines: {d.Path} ({(d.BuildId != null ? "build id matches, " : "")}{slide}) with {lines.Tool}; {src}");
        return lines;
    }

    /// <summary>Source lines from a known vmlinux (no check against the running kernel: for tests and offline use).</summary>
    public static SourceLines? Open(DebugInfo debug, string? kernelSrc, Kallsyms? kallsyms, out string? missing, Action<string>? progress = null)
    {
        var symbolizer = Symbolizer.Start(debug.Path, out missing);
        if (symbolizer == null) return null;
        ElfImage image;
        try
        {
            image = ElfImage.Open(debug.Path);
        }
        catch (KernelAnalysisException e)
        {
            symbolizer.Dispose();
            missing = e.Message;
            return null;
        }
        KernelSource? source = null;
        if (kernelSrc != null)
        {
            if ((source = KernelSource.Open(kernelSrc, progress, out var why)) == null) missing = why;
        }
        else if ((source = KernelSource.Debuginfod(debug.BuildId, symbolizer.DwarfPath, progress, out var why)) == null && why != null)
            missing = why;
        return new SourceLines(debug, image, symbolizer, source, kallsyms);
    }

    /// <summary>Fills the source fields of <paramref name="origin"/> for a call that failed with <paramref name="errno"/>.</summary>
    public void Annotate(Events.Origin origin, int errno)
    {
        var result = _sites.Find(origin.Function, errno);
        if (result != null)
        {
            origin.SiteKind = result.Kind;
            origin.Sites = result.Sites;
            if (result.Kind == "exact")
            {
                origin.Frames = result.Sites[0].Frames;
                var f = result.Sites[0].Frames[0];
                origin.Snippet = _source?.Snippet(f.File, f.Line);
            }
            else
                origin.Frames = _symbolizer.Symbolize(result.Address);
        }

        // Each chain link above the origin: where it called inward (its return address − 1 is in the call).
        var chainFrames = new List<IReadOnlyList<SourceFrame>>();
        foreach (var link in origin.Chain.Skip(1))
        {
            IReadOnlyList<SourceFrame> frames = [];
            foreach (var entry in origin.Stack)
                if (ReturnAddress(entry, link) is { } live)
                {
                    frames = _symbolizer.Symbolize(_debug.ToLink(live) - 1);
                    break;
                }
            chainFrames.Add(frames);
        }
        origin.ChainFrames = chainFrames;
        if (_symbolizer.Failure is { } failure && !_failureTold)
        {
            _failureTold = true;
            _notice?.Invoke($"source lines stopped: {failure}; origins from here on have no file:line");
        }
    }

    /// <summary>The live address of a stack entry "function+0xOFF" when it is in <paramref name="function"/>.</summary>
    private ulong? ReturnAddress(string entry, string function)
    {
        int plus = entry.LastIndexOf("+0x", StringComparison.Ordinal);
        if (plus < 0 || entry[..plus] != function || _kallsyms == null || !_kallsyms.TryGetAddress(function, out ulong start)) return null;
        return ulong.TryParse(entry.AsSpan(plus + 3), System.Globalization.NumberStyles.HexNumber, null, out ulong off) ? start + off : null;
    }

    public void Dispose()
    {
        _symbolizer.Dispose();
        _image.Dispose();
    }
}
