using Whyfail.Capture;

namespace Whyfail.Analysis.Origin.Kernel;

/// <summary>Reads bytes of kernel text at LIVE (KASLR-relocated) addresses.</summary>
public interface IKernelTextReader
{
    /// <summary>What the bytes come from, for messages (e.g. "/proc/kcore").</summary>
    string Source { get; }

    /// <summary>Fills <paramref name="destination"/> with the text at <paramref name="address"/>; false when not readable.</summary>
    bool TryRead(ulong address, Span<byte> destination);
}

/// <summary>
/// Kernel text from the sources this machine offers, tried in order: a vmlinux ELF given by path
/// (relocated by the KASLR offset = live <c>_text</c> minus the ELF's <c>_text</c>), then /proc/kcore
/// (the live, patched text: alternatives, static calls and paravirt calls already resolved; it also
/// covers modules), then a debug vmlinux at a well-known path. A vmlinux whose build id differs from
/// the running kernel's is refused.
/// </summary>
public sealed class KernelText : IKernelTextReader, IDisposable
{
    public const string DefaultKcorePath = "/proc/kcore";

    private readonly List<(ElfImage Image, long Slide, string Description)> _sources;

    private KernelText(List<(ElfImage, long, string)> sources)
    {
        _sources = sources;
        Source = string.Join(", then ", sources.Select(s => s.Item3));
    }

    public string Source { get; }

    /// <summary>Paths of the debug vmlinux tried when none is given (Debian's -dbg package, then /boot).</summary>
    public static IReadOnlyList<string> WellKnownVmlinuxPaths(string release) => Analysis.Origin.Source.DebugInfoLocator.Candidates(release, buildId: null);

    /// <summary>
    /// Opens the best available sources. <paramref name="vmlinuxPath"/>, when given, must exist and match
    /// the running kernel. <paramref name="runningBuildId"/> (from /sys/kernel/notes) is used to check vmlinux files;
    /// null skips the check.
    /// </summary>
    public static KernelText Open(Kallsyms symbols, string? vmlinuxPath = null, string kcorePath = DefaultKcorePath,
        string? runningBuildId = null, string? release = null, bool searchWellKnownPaths = true)
    {
        symbols.RequireAddresses();
        var sources = new List<(ElfImage, long, string)>();
        var why = new List<string>();
        try
        {
            if (vmlinuxPath != null)
                sources.Add(OpenVmlinux(vmlinuxPath, symbols, runningBuildId));

            if (File.Exists(kcorePath))
            {
                try
                {
                    var core = ElfImage.Open(kcorePath);
                    if (symbols.TryGetAddress("_text", out ulong text) || symbols.TryGetAddress("_stext", out text))
                    {
                        Span<byte> probe = stackalloc byte[16];
                        if (!core.TryReadVirtual(text, probe))
                        {
                            core.Dispose();
                            throw new KernelAnalysisException($"{kcorePath} does not map the kernel text at 0x{text:x}");
                        }
                    }
                    sources.Add((core, 0, kcorePath));
                }
                catch (KernelAnalysisException e)
                {
                    why.Add(e.Message);
                }
            }
            else
            {
                why.Add($"{kcorePath} is missing");
            }

            if (sources.Count == 0 && searchWellKnownPaths)
            {
                release ??= KernelBuildId.Release();
                foreach (var path in WellKnownVmlinuxPaths(release))
                {
                    if (!File.Exists(path)) continue;
                    try
                    {
                        sources.Add(OpenVmlinux(path, symbols, runningBuildId));
                        break;
                    }
                    catch (KernelAnalysisException e)
                    {
                        why.Add(e.Message);
                    }
                }
                if (sources.Count == 0) why.Add($"no vmlinux was found (tried {WellKnownVmlinuxPaths(release)[0]})");
            }
        }
        catch
        {
            foreach (var s in sources) s.Item1.Dispose();
            throw;
        }

        if (sources.Count == 0)
        {
            string lockdown = Lockdown();
            string hint = lockdown is "integrity" or "confidentiality"
                ? $" (lockdown={lockdown} hides /proc/kcore)"
                : " (kernel lockdown or a kernel without CONFIG_PROC_KCORE hides /proc/kcore)";
            throw new KernelAnalysisException("kernel text is not readable: " + string.Join(" and ", why) + hint +
                "; install the kernel's debug vmlinux (Debian: linux-image-$(uname -r)-dbg) or pass its path");
        }
        return new KernelText(sources);
    }

    /// <summary>Only /proc/kcore (or an ELF core file laid out like it).</summary>
    public static KernelText FromKcore(string path = DefaultKcorePath) =>
        new([(ElfImage.Open(path), 0, path)]);

    /// <summary>Only a vmlinux ELF, relocated by <paramref name="kaslrOffset"/> (live address minus link address).</summary>
    public static KernelText FromVmlinux(string path, long kaslrOffset) =>
        new([(ElfImage.Open(path), kaslrOffset, Describe(path, kaslrOffset))]);

    /// <summary>Only a vmlinux ELF; the KASLR offset is the live <c>_text</c> minus the ELF's <c>_text</c>.</summary>
    public static KernelText FromVmlinux(string path, Kallsyms symbols, string? runningBuildId = null) =>
        new([OpenVmlinux(path, symbols, runningBuildId)]);

    private static (ElfImage, long, string) OpenVmlinux(string path, Kallsyms symbols, string? runningBuildId)
    {
        var image = ElfImage.Open(path);
        try
        {
            if (runningBuildId != null)
            {
                string? id = image.ReadBuildId();
                if (id != null && !string.Equals(id, runningBuildId, StringComparison.OrdinalIgnoreCase))
                    throw new KernelAnalysisException($"{path} is not the running kernel (build id {id}, running {runningBuildId})");
            }
            ulong? linked = image.FindSymbol("_text");
            string how = "";
            if (linked == null)
            {
                // A stripped vmlinux (e.g. unpacked from vmlinuz) has no .symtab; on x86-64 _text opens
                // the first executable segment of the kernel mapping.
                var text = image.LoadSegments.FirstOrDefault(l => l.IsExecutable && l.VirtualAddress >= KernelMapStart);
                if (text.VirtualAddress == 0)
                    throw new KernelAnalysisException($"{path} has no _text symbol and no kernel text segment: cannot compute the KASLR offset");
                linked = text.VirtualAddress;
                how = ", _text from the first text segment";
            }
            if (!symbols.TryGetAddress("_text", out ulong live))
                throw new KernelAnalysisException($"{symbols.Source} has no _text symbol: cannot compute the KASLR offset");
            long slide = (long)(live - linked.Value);
            return (image, slide, Describe(path, slide, how));
        }
        catch
        {
            image.Dispose();
            throw;
        }
    }

    private static string Describe(string path, long slide, string how = "") =>
        slide == 0 ? $"{path} (no KASLR offset{how})" : $"{path} (KASLR offset {(slide < 0 ? "-" : "+")}0x{Math.Abs(slide):x}{how})";

    /// <summary>Where x86-64's kernel image mapping starts (__START_KERNEL_map).</summary>
    private const ulong KernelMapStart = 0xffffffff80000000;

    public bool TryRead(ulong address, Span<byte> destination)
    {
        foreach (var (image, slide, _) in _sources)
            if (image.TryReadVirtual(address - (ulong)slide, destination))
                return true;
        return false;
    }

    /// <summary>Reads exactly <paramref name="length"/> bytes or throws.</summary>
    public byte[] Read(ulong address, int length)
    {
        var buffer = new byte[length];
        if (!TryRead(address, buffer))
            throw new KernelAnalysisException($"kernel text at 0x{address:x} (+{length}) is not readable from {Source}");
        return buffer;
    }

    private static string Lockdown() => SecurityFs.LockdownMode() ?? "";

    public void Dispose()
    {
        foreach (var s in _sources) s.Image.Dispose();
    }
}
