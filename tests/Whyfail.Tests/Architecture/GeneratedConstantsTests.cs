using Whyfail.Analysis.Seccomp;
using Whyfail.Decoding;
using Whyfail.Tests.Capture;
using Xunit;

namespace Whyfail.Tests.Architecture;

/// <summary>
/// The C# constants tools/gen-xlat writes from the headers (its CS_FILES: ClassicBpf.g.cs, SeccompVerdict.g.cs,
/// Libc.g.cs, Libbpf.g.cs, Cap.g.cs, SignalEvidence.g.cs, and Errnos.g.cs from the errno tables) hold the values of the
/// committed xlat.tsv: each file is what the generator writes from that table
/// now (--from-tsv), so a hand edit of either, or a table regenerated from other headers without its C#, fails here.
/// </summary>
public class GeneratedConstantsTests
{
    [Fact]
    public void EachGeneratedFileIsWhatTheGeneratorWritesFromXlatTsv()
    {
        string root = BpfContractGeneratorTests.RepoRoot();
        var dir = Directory.CreateTempSubdirectory("whyfail-xlat-cs-");
        try
        {
            var gen = BpfContractGeneratorTests.Run("python3", Path.Combine(root, "tools", "gen-xlat"), "--from-tsv", "--cs-root", dir.FullName);
            Assert.True(gen.Exit == 0, gen.Error);
            var written = Directory.GetFiles(dir.FullName, "*.g.cs", SearchOption.AllDirectories);
            Assert.Equal(7, written.Length);
            foreach (var file in written)
            {
                string rel = Path.GetRelativePath(dir.FullName, file);
                Assert.True(File.ReadAllText(file) == File.ReadAllText(Path.Combine(root, rel)),
                    $"{rel} is not what tools/gen-xlat writes from Data/xlat.tsv; rerun tools/gen-xlat");
            }
        }
        finally
        {
            dir.Delete(true);
        }
    }

    /// <summary>A few values through the compiled constants themselves, against the table the decoders read.</summary>
    [Fact]
    public void TheConstantsAreTheTablesValues()
    {
        Assert.Equal(Xlat.Table("cbpf_limits")["BPF_MAXINSNS"], (ulong)ClassicBpf.MaxInstructions);
        Assert.Equal(Xlat.Table("cbpf_limits")["BPF_MEMWORDS"], (ulong)ClassicBpf.MemWords);
        Assert.Equal(Xlat.Table("audit_arch")["AUDIT_ARCH_X86_64"], SeccompData.AuditArchX86_64);
        Assert.Equal(Xlat.Table("audit_arch")["AUDIT_ARCH_I386"], SeccompData.AuditArchI386);
        var actions = Xlat.Table("seccomp_ret_actions").Entries;
        Assert.Equal(actions.Count, Enum.GetValues<SeccompAction>().Length);
        foreach (var (name, value) in actions)
            Assert.Equal(name["SECCOMP_RET_".Length..], SeccompRet.Describe((uint)value).Split('(')[0]);
        Assert.Equal(Xlat.Table("seccomp_ret_masks")["SECCOMP_RET_ACTION_FULL"], SeccompRet.ActionFull);
        Assert.Equal(Xlat.Table("seccomp_ret_masks")["SECCOMP_RET_DATA"], SeccompRet.DataMask);
        Assert.Equal(Xlat.Table("at_special")["AT_FDCWD"], unchecked((ulong)(long)Whyfail.Capture.Native.Libc.AT_FDCWD));
        Assert.Equal(Xlat.Table("statx_mask")["STATX_MNT_ID"], Whyfail.Capture.Native.Libc.STATX_MNT_ID);
        Assert.Equal(Xlat.Table("open_flags")["O_CLOEXEC"], (ulong)Whyfail.Capture.Native.Libc.O_CLOEXEC);
        Assert.Equal(Xlat.Table("ptrace_events")["PTRACE_EVENT_STOP"], (ulong)Whyfail.Capture.Native.Libc.PTRACE_EVENT_STOP);
        Assert.Equal(Xlat.Table("capabilities")["CAP_SYS_ADMIN"], (ulong)Whyfail.Analysis.Explain.Cap.SYS_ADMIN);
        Assert.Equal(Xlat.Table("sa_flags")["SA_RESTART"], Whyfail.Events.SignalEvidence.SA_RESTART);
        Assert.True(Errno.TryParse("ERESTART_RESTARTBLOCK", out int restart) && restart == Errnos.ERESTART_RESTARTBLOCK);
    }
}
