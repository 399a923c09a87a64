using Whyfail.Capture;
using Whyfail.Capture.Native;
using Whyfail.Capture.Origin;
using Xunit;

namespace Whyfail.Tests.Origin;

/// <summary>
/// The fexit probe remembered for the running boot (<see cref="OriginBackends.ProbeFexitCached"/>, in the per-boot file of
/// <see cref="BtfIdCache"/>): on the real kernel, its answer is the kernel's; an "allowed" in a file that is not to be
/// trusted (a symlink, another owner, a cut line, another boot's file) is not believed; a refusal is never remembered.
/// On a kernel that refuses fexit (the host) a forged "allowed" would change the answer, so there these tests tell a
/// believed forgery from the truth; on one that allows it (the lab) they check that the untrusted file is replaced.
/// </summary>
[Collection("tracing")]
[Trait("suite", "integration")]
public class ProbeCacheTests
{
    private static string CacheFile()
    {
        string? file = BtfIdCache.FileName();
        Assert.True(file != null, "whyfail's tests run as root: the cache directory should be usable");
        return file;
    }

    private static string Allowed => $"{OriginBackends.FexitCacheKey()} 1";

    [Fact]
    public void The_cached_answer_is_the_kernels_and_only_an_allowed_probe_is_kept()
    {
        string file = CacheFile();
        File.Delete(file);
        string? truth = OriginBackends.ProbeFexitNow();
        string? first = OriginBackends.ProbeFexitCached();
        Assert.Equal(truth == null, first == null);
        var lines = File.Exists(file) ? File.ReadAllLines(file) : [];
        if (truth == null)
        {
            Assert.Contains(Allowed, lines);
            Assert.Null(OriginBackends.ProbeFexitCached()); // read back
        }
        else
        {
            Assert.DoesNotContain(lines, l => l.StartsWith(OriginBackends.FexitCacheKey(), StringComparison.Ordinal)); // a refusal is asked again
            Assert.Equal(truth, OriginBackends.ProbeFexitCached());
        }
    }

    /// <summary>The fexit backend's ids, many at once: the kernel's own (libbpf's search), written once, read back.</summary>
    [Fact]
    public void Function_ids_in_one_go_are_the_kernels_and_are_read_back()
    {
        string file = CacheFile();
        File.Delete(file);
        string[] names = ["do_sys_openat2", "cap_capable", "whyfail_no_such_function", "do_sys_openat2"];
        var ids = BtfIdCache.FunctionIds(names);
        nint btf = KernelChecks.VmlinuxBtf();
        foreach (var n in names)
            Assert.Equal(Math.Max(Libbpf.BtfFindByNameKind(btf, n, Libbpf.BTF_KIND_FUNC), 0), Math.Max(ids[n], 0));
        Assert.True(ids["do_sys_openat2"] > 0);
        var lines = File.ReadAllLines(file);
        Assert.Contains($"{Libbpf.BTF_KIND_FUNC}:do_sys_openat2 {ids["do_sys_openat2"]}", lines);
        Assert.Contains($"{Libbpf.BTF_KIND_FUNC}:whyfail_no_such_function 0", lines);
        Assert.Single(lines, l => l.StartsWith($"{Libbpf.BTF_KIND_FUNC}:do_sys_openat2 ", StringComparison.Ordinal));
        // Read back from the file (a made-up entry shows it), the single lookups agree.
        File.AppendAllLines(file, [$"{Libbpf.BTF_KIND_FUNC}:whyfail_made_up 4242"]);
        try
        {
            Assert.Equal(4242, BtfIdCache.FunctionIds(["whyfail_made_up"])["whyfail_made_up"]);
            Assert.Equal(ids["cap_capable"], BtfIdCache.FunctionId("cap_capable"));
        }
        finally { File.Delete(file); }
    }

    /// <summary>The key holds what can change within a boot: an "allowed" kept under another lockdown mode is not this one's.</summary>
    [Fact]
    public void An_allowed_kept_under_another_lockdown_mode_or_boot_is_not_used()
    {
        string file = CacheFile();
        string key = OriginBackends.FexitCacheKey();
        string other = key.Replace("lockdown=", "lockdown=x", StringComparison.Ordinal);
        string otherBoot = Path.Combine(Path.GetDirectoryName(file)!, "00000000-0000-4000-8000-000000000000");
        try
        {
            File.WriteAllLines(file, [$"{other} 1"]);
            File.WriteAllLines(otherBoot, [Allowed]);
            AssertTruth(file);
        }
        finally
        {
            File.Delete(otherBoot);
            File.Delete(file);
        }
    }

    public static TheoryData<string> Untrusted => new() { "symlink", "owner", "truncated", "garbage" };

    [Theory]
    [MemberData(nameof(Untrusted))]
    public void An_allowed_in_an_untrusted_file_is_not_believed_and_the_file_is_made_again(string how)
    {
        string file = CacheFile();
        string bait = Path.Combine(Path.GetTempPath(), $"whyfail-bait-{Guid.NewGuid():N}");
        File.Delete(file);
        try
        {
            switch (how)
            {
                case "symlink": // a link to a file someone else may write
                    File.WriteAllLines(bait, [Allowed]);
                    File.CreateSymbolicLink(file, bait);
                    break;
                case "owner": // a file not owned by root
                    File.WriteAllLines(file, [Allowed]);
                    using (var chown = System.Diagnostics.Process.Start("chown", ["65534:65534", file]))
                    {
                        chown.WaitForExit();
                        Assert.Equal(0, chown.ExitCode);
                    }
                    break;
                case "truncated": // a write cut short: the key without its value
                    File.WriteAllText(file, Allowed[..^2]);
                    break;
                case "garbage":
                    File.WriteAllBytes(file, [0xff, 0xfe, 0, (byte)'\n', .. System.Text.Encoding.UTF8.GetBytes($"{OriginBackends.FexitCacheKey()} yes\n")]);
                    break;
            }
            string? truth = AssertTruth(file);
            if (truth == null)
            {
                // Allowed here: the probe ran and its answer replaced the untrusted file with a root-owned regular one.
                var st = SafeDirectory.LStat(file);
                Assert.True(st is { } s && SafeDirectory.IsRegular(s.Mode) && s.Uid == 0, $"{file} was not made again");
                Assert.Contains(Allowed, File.ReadAllLines(file));
            }
            if (how == "symlink")
                Assert.Equal([Allowed], File.ReadAllLines(bait)); // the link's target is never written
        }
        finally
        {
            File.Delete(file);
            File.Delete(bait);
        }
    }

    /// <summary>The answer through the cache is the kernel's own; returns it.</summary>
    private static string? AssertTruth(string file)
    {
        string? truth = OriginBackends.ProbeFexitNow();
        string? cached = OriginBackends.ProbeFexitCached();
        Assert.True((truth == null) == (cached == null), $"kernel: {truth ?? "allowed"}; through {file}: {cached ?? "allowed"}");
        return truth;
    }

    /// <summary>
    /// A stale "allowed" (the kernel refuses fexit now) never makes whyfail claim the backend: the real load is refused,
    /// and the capture says so and goes on with the next backend or with tracepoints alone.
    /// </summary>
    [FactWhenFexitRefused]
    public void A_stale_allowed_is_caught_by_the_load_and_said()
    {
        string file = CacheFile();
        var kept = File.Exists(file) ? File.ReadAllLines(file) : null;
        try
        {
            File.WriteAllLines(file, [.. (kept ?? []).Where(l => !l.StartsWith(OriginBackends.FexitCacheKey(), StringComparison.Ordinal)), Allowed]);
            OriginBackends.Forget();
            Assert.Contains(OriginBackend.Fexit, OriginBackends.Candidates(out _)); // the forged answer is believed ...
            using var capture = new TracepointCapture(new CaptureOptions { OriginFunctions = ["do_sys_openat2"], Captures = CaptureTable.BuiltIn });
            // ... and the load tells the truth.
            Assert.True(capture.OriginProbes is null || capture.OriginProbes.Backend != OriginBackend.Fexit, "fexit claimed on a kernel that refuses it");
            Assert.Contains(capture.Limitations, l => l.StartsWith("origin backend fexit refused by this kernel", StringComparison.Ordinal));
        }
        finally
        {
            OriginBackends.Forget();
            if (kept != null) File.WriteAllLines(file, kept);
            else File.Delete(file);
        }
    }

    /// <summary>Only where the kernel refuses fexit can a forged "allowed" be told from the truth by whyfail's output.</summary>
    public sealed class FactWhenFexitRefusedAttribute : FactAttribute
    {
        public FactWhenFexitRefusedAttribute()
        {
            if (Libc.GetEuid() == 0 && OriginBackends.ProbeFexitNow() == null)
                Skip = "this kernel allows fexit: a stale \"allowed\" is the truth here";
        }
    }
}
