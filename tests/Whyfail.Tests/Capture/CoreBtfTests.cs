using System.Runtime.InteropServices;
using Whyfail.Capture;
using Whyfail.Capture.Native;
using Xunit;

namespace Whyfail.Tests.Capture;

/// <summary>A fact that loads BPF programs against the running kernel's BTF: root and /sys/kernel/btf/vmlinux.</summary>
public sealed class FactLoadingBpfAttribute : FactAttribute
{
    public FactLoadingBpfAttribute()
    {
        if (Libc.GetEuid() != 0) Skip = "loads BPF programs: needs root";
        else if (!File.Exists("/sys/kernel/btf/vmlinux")) Skip = "this kernel has no BTF (/sys/kernel/btf/vmlinux)";
    }
}

/// <summary>
/// The small BTF that answers whyfail's CO-RE relocations (<see cref="CoreBtf"/>): libbpf must relocate every
/// program exactly as with the kernel's own BTF, and the per-boot file must be checked before it is trusted.
/// Runs on the host and in both lab kernels (the structs differ between 6.1, 6.12 and the host).
/// </summary>
[Trait("suite", "integration")]
public unsafe class CoreBtfTests
{
    /// <summary>
    /// Each embedded object is loaded twice, once relocated by libbpf from the kernel's BTF and once from the small
    /// file; the instructions libbpf hands to the kernel must be the same, but for map descriptors (which differ
    /// between two loads). Programs this kernel refuses to load (fexit on a kernel that forbids trampolines, BPF LSM
    /// where it is off) are left out of both loads alike.
    /// </summary>
    [FactLoadingBpf]
    public void SmallBtfRelocatesEveryProgramAsTheKernelsBtf()
    {
        LibbpfLog.Install();
        var compared = new List<string>();
        foreach (var name in new[] { "whyfail.bpf.o", "probe.bpf.o", "deny.bpf.o" })
        {
            byte[] image = BpfObject.Embedded(name).ToArray();
            var roots = CoreBtf.Roots(image);
            Assert.NotNull(roots);
            Assert.NotEmpty(roots);
            byte[]? small = CoreBtf.Make(roots);
            Assert.NotNull(small);
            Assert.True(small.Length < 400_000, $"{name}: small BTF of {small.Length} bytes");
            string path = Path.Combine(Directory.CreateTempSubdirectory("whyfail-corebtf-").FullName, "core.btf");
            File.WriteAllBytes(path, small);

            var reference = LoadAndRead(image, null, null);
            if (reference == null)
            {
                Assert.True(name != "whyfail.bpf.o", $"whyfail.bpf.o does not load: {_lastLog}"); // whyfail's own programs load here, or whyfail could not trace
                continue;
            }
            var fromSmall = LoadAndRead(image, path, reference.Keys.ToHashSet());
            Assert.True(fromSmall != null, $"{name} does not load with the small BTF: {_lastLog}");
            Assert.NotNull(fromSmall);
            Assert.Equal(reference.Keys.Order(), fromSmall.Keys.Order());
            foreach (var (prog, insns) in reference)
                Assert.True(insns.SequenceEqual(fromSmall[prog]), $"{name}: {prog} relocated differently from the small BTF");
            compared.AddRange(reference.Keys.Select(p => $"{name}:{p}"));
            Directory.Delete(Path.GetDirectoryName(path)!, true);
        }
        Assert.Contains("whyfail.bpf.o:on_sys_exit", compared);
    }

    /// <summary>
    /// Loads the object with the programs this kernel accepts (all but those in sections it refuses), CO-RE relocated
    /// from <paramref name="btfPath"/> (null: the kernel's BTF) and returns each loaded program's instructions with
    /// map references blanked. Null when the object does not load at all.
    /// </summary>
    private static Dictionary<string, ulong[]>? LoadAndRead(byte[] image, string? btfPath, HashSet<string>? only, bool retry = false)
    {
        byte[]? custom = btfPath != null ? System.Text.Encoding.UTF8.GetBytes(btfPath + "\0") : null;
        nint obj;
        fixed (byte* p = image)
        fixed (byte* c = custom)
        {
            var opts = new Libbpf.ObjectOpenOpts { Sz = (nuint)sizeof(Libbpf.ObjectOpenOpts), BtfCustomPath = (nint)c };
            obj = Libbpf.ObjectOpenMem(p, (nuint)image.Length, &opts);
        }
        Assert.NotEqual(0, obj);
        try
        {
            var candidates = new List<nint>();
            for (nint prog = Libbpf.NextProgram(obj, 0); prog != 0; prog = Libbpf.NextProgram(obj, prog))
            {
                string name = Marshal.PtrToStringUTF8(Libbpf.ProgramName(prog))!;
                bool load = only?.Contains(name) ?? Loadable(prog);
                Libbpf.ProgramSetAutoload(prog, load);
                if (load) candidates.Add(prog);
            }
            if (Libbpf.ObjectLoad(obj) < 0)
            {
                // The kernel refused a program (fexit where trampolines are forbidden, a tracepoint it lacks, BPF LSM
                // off): libbpf names it; once more without it.
                _lastLog = LibbpfLog.Take();
                var refused = System.Text.RegularExpressions.Regex.Match(_lastLog, "prog '([^']+)': failed to load");
                if ((only != null && !retry) || !refused.Success || candidates.Count <= 1) return null;
                var keep = candidates.Select(Name).Where(n => n != refused.Groups[1].Value).ToHashSet();
                Libbpf.ObjectClose(obj);
                obj = 0;
                return LoadAndRead(image, btfPath, keep, retry: true);
            }
            var result = new Dictionary<string, ulong[]>();
            for (nint prog = Libbpf.NextProgram(obj, 0); prog != 0; prog = Libbpf.NextProgram(obj, prog))
            {
                if (!Libbpf.ProgramAutoload(prog)) continue;
                var insns = new ReadOnlySpan<ulong>((void*)Libbpf.ProgramInsns(prog), (int)Libbpf.ProgramInsnCount(prog)).ToArray();
                for (int i = 0; i < insns.Length; i++)
                    if ((insns[i] & 0xff) == 0x18 && ((insns[i] >> 12) & 0xf) != 0) // ld_imm64 of a map (fd or value): differs per load
                    {
                        insns[i] &= 0xffffffffUL;
                        if (i + 1 < insns.Length) insns[i + 1] = 0;
                    }
                result[Name(prog)] = insns;
            }
            return result;
        }
        finally
        {
            if (obj != 0) Libbpf.ObjectClose(obj);
        }
    }

    private static string _lastLog = "";

    /// <summary>
    /// Leaves out at once what this kernel cannot load for want of a target (each refusal costs a whole reload, and the
    /// lab's emulated CPU verifies on_sys_exit in seconds): tracepoints it lacks, LSM programs where BPF LSM is off.
    /// </summary>
    private static bool Loadable(nint prog)
    {
        string sec = Marshal.PtrToStringUTF8(Libbpf.ProgramSectionName(prog))!;
        if (sec.StartsWith("tp_btf/", StringComparison.Ordinal)) return KernelChecks.HasTracepoint(sec["tp_btf/".Length..]);
        if (sec.StartsWith("lsm/", StringComparison.Ordinal))
            return File.Exists("/sys/kernel/security/lsm") && File.ReadAllText("/sys/kernel/security/lsm").Split(',').Contains("bpf");
        return true;
    }

    private static string Name(nint prog) => Marshal.PtrToStringUTF8(Libbpf.ProgramName(prog))!;


    /// <summary>
    /// The per-boot file is made once, taken while it checks out, and made again when it does not: cut short, or a
    /// symlink put in its place (replaced by a new file; what it pointed to is left alone).
    /// </summary>
    [FactLoadingBpf]
    public void TheCachedFileIsCheckedAndMadeAgainWhenItIsDamaged()
    {
        var dir = Directory.CreateTempSubdirectory("whyfail-corebtf-cache-");
        try
        {
            byte[] image = BpfObject.Embedded("whyfail.bpf.o").ToArray();
            var roots = CoreBtf.Roots(image)!;
            string? path = CoreBtf.PathFor(image, dir.FullName);
            Assert.NotNull(path);
            Assert.StartsWith(dir.FullName + "/", path);
            byte[] good = File.ReadAllBytes(path);
            Assert.True(CoreBtf.IsValid(path, roots));
            Assert.Equal(path, CoreBtf.PathFor(image, dir.FullName));

            File.WriteAllBytes(path, good[..(good.Length / 2)]);
            Assert.False(CoreBtf.IsValid(path, roots));
            Assert.Equal(path, CoreBtf.PathFor(image, dir.FullName));
            Assert.Equal(good, File.ReadAllBytes(path));

            string elsewhere = Path.Combine(dir.FullName, "elsewhere");
            File.WriteAllBytes(elsewhere, good);
            File.Delete(path);
            File.CreateSymbolicLink(path, elsewhere);
            Assert.False(CoreBtf.IsValid(path, roots));
            Assert.Equal(path, CoreBtf.PathFor(image, dir.FullName));
            Assert.Null(new FileInfo(path).LinkTarget);
            Assert.Equal(good, File.ReadAllBytes(path));

            // Another set of roots (another whyfail build) gets a file of its own.
            Assert.NotEqual(CoreBtf.FileName(roots), CoreBtf.FileName(roots.Skip(1).ToList()));
        }
        finally
        {
            dir.Delete(true);
        }
    }

    [Fact]
    public void AttachTargetsAreTheTypesLibbpfLooksFor()
    {
        Assert.Equal(("btf_trace_sys_exit", Libbpf.BTF_KIND_TYPEDEF), BtfAttachTargets.Target("tp_btf/sys_exit", iterator: false));
        Assert.Equal(("bpf_iter_task", Libbpf.BTF_KIND_FUNC), BtfAttachTargets.Target("iter/task", iterator: true));
        Assert.Null(BtfAttachTargets.Target("tp_btf/", iterator: false));
        Assert.Null(BtfAttachTargets.Target("tp_btf", iterator: false));
    }

    [Fact]
    public void EssentialNamesDropTheFlavourAsLibbpfDoes()
    {
        Assert.Equal("task_struct", CoreBtf.EssentialName("task_struct___old"));
        Assert.Equal("task_struct", CoreBtf.EssentialName("task_struct"));
        Assert.Equal("a___b", CoreBtf.EssentialName("a___b___c"));
        Assert.Equal("x____y", CoreBtf.EssentialName("x____y")); // four underscores: no separator
    }
}
