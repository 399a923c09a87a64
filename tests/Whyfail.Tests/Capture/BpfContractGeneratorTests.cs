using System.Diagnostics;
using Whyfail.Capture.Bpf;
using Xunit;

namespace Whyfail.Tests.Capture;

/// <summary>
/// tools/gen-bpf-contract, the build step that writes the C# side of the BPF contract from the object's
/// BTF: run here on small objects compiled like whyfail.bpf.o (clang and python3 build whyfail itself, so
/// they are present wherever this assembly was built).
/// </summary>
public class BpfContractGeneratorTests
{
    internal static string RepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "whyfail.slnx"))) return d.FullName;
        throw new InvalidOperationException("repository root not found above " + AppContext.BaseDirectory);
    }

    internal static (int Exit, string Output, string Error) Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, output, err.Result);
    }

    /// <summary>Compiles a BPF object from <paramref name="header"/> and <paramref name="program"/>, runs the generator on it.</summary>
    private static (int Exit, string Cs, string Error) Generate(string header, string program)
    {
        var dir = Directory.CreateTempSubdirectory("whyfail-contract-");
        try
        {
            File.WriteAllText(Path.Combine(dir.FullName, "t.h"), header);
            File.WriteAllText(Path.Combine(dir.FullName, "t.bpf.c"), "#include \"t.h\"\n" + program);
            var obj = Path.Combine(dir.FullName, "t.o");
            var cc = Run("clang", "-g", "-O2", "-target", "bpf", "-c", Path.Combine(dir.FullName, "t.bpf.c"), "-o", obj);
            Assert.True(cc.Exit == 0, cc.Error);
            var cs = Path.Combine(dir.FullName, "t.g.cs");
            var gen = Run("python3", Path.Combine(RepoRoot(), "tools", "gen-bpf-contract"), obj, Path.Combine(dir.FullName, "t.h"), cs);
            return (gen.Exit, File.Exists(cs) ? File.ReadAllText(cs) : "", gen.Error);
        }
        finally
        {
            dir.Delete(true);
        }
    }

    private const string Program = """
        struct { int type; int max_entries; } counts __attribute__((section(".maps")));
        __attribute__((section("tp_btf/sys_exit"))) int on_exit(struct wf_rec *r) { return r ? r->b : 0; }
        char LICENSE[] __attribute__((section("license"))) = "GPL";
        """;

    [Fact]
    public void LayoutConstantsAndNamesComeFromTheObject()
    {
        var (exit, cs, err) = Generate("""
            #define WF_LIMIT 8     /* a limit */
            #define WF_FLAG  4u
            #define WF_TWICE (WF_LIMIT * 2)
            struct wf_rec {
                unsigned short a;
                unsigned long long b;
                char name[2][4];
            };
            """, Program);
        Assert.True(exit == 0, err);
        Assert.Contains("[StructLayout(LayoutKind.Explicit, Size = 24)]", cs);
        Assert.Contains("[FieldOffset(0)] public ushort A;", cs);
        Assert.Contains("[FieldOffset(8)] public ulong B;", cs);     // aligned by the compiler, read from BTF
        Assert.Contains("[FieldOffset(16)] public fixed byte Name[8];", cs); // char[2][4]: one flat buffer
        Assert.Contains("public const int Limit = 8;", cs);
        Assert.Contains("public const uint Flag = 4;", cs);
        Assert.Contains("public const int Twice = 16;", cs);
        Assert.Contains("/// <summary>WF_LIMIT: a limit</summary>", cs);
        Assert.Contains("public const string OnExit = \"on_exit\";", cs);
        Assert.Contains("SEC(\"tp_btf/sys_exit\")", cs);
        Assert.Contains("public const string Counts = \"counts\";", cs);
    }

    [Fact]
    public void AFieldAddedInTheMiddleMovesTheOnesAfterIt()
    {
        var (exit, cs, err) = Generate("""
            struct wf_rec {
                unsigned short a;
                unsigned int inserted;
                unsigned long long b;
            };
            """, Program);
        Assert.True(exit == 0, err);
        Assert.Contains("[FieldOffset(4)] public uint Inserted;", cs);
        Assert.Contains("[FieldOffset(8)] public ulong B;", cs);
        Assert.Contains("public const int SizeOf = 16;", cs);
    }

    [Fact]
    public void AStructTheObjectDoesNotKeepIsAnError()
    {
        var (exit, _, err) = Generate("""
            struct wf_rec { unsigned long long b; };
            struct wf_unused { int x; };
            """, Program);
        Assert.NotEqual(0, exit);
        Assert.Contains("struct wf_unused", err);
        Assert.Contains("wf_btf_anchor", err);
    }

    [Fact]
    public void TheBuiltContractIsTheObjectsOwn()
    {
        // What this build compiled in: the header's record and the programs user space attaches by name.
        Assert.Equal(136, WfEvent.SizeOf);
        Assert.Contains(BpfPrograms.OnSysExit, BpfPrograms.All);
        Assert.Equal(0, BpfMaps.RodataCfgOffset);
        Assert.Equal(WfConfig.SizeOf, System.Runtime.CompilerServices.Unsafe.SizeOf<WfConfig>());
    }
}
