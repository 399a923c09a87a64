using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using Whyfail.Decoding;
using Whyfail.Events;

namespace Whyfail.Analysis.Explain.Rules;

/// <summary>
/// EINVAL from perf_event_open: the field of struct perf_event_attr (or the argument) that the kernel's checks in
/// perf_copy_attr and perf_event_open refuse — reserved fields that are not zero, flag bits no kernel header defines,
/// a branch filter with only privilege levels, a misaligned user stack size, a sampling frequency above
/// kernel.perf_event_max_sample_rate, a period with the top bit, pid and cpu both -1, unknown open flags. Bits unknown
/// to the headers whyfail was built from may be known to a newer kernel: those say "probably".
/// </summary>
public sealed class PerfAttrInvalid : IExplainRule
{
    public string Id => "perf.invalid_attr";

    private const ulong SampleBranchStack = 0x800, SampleStackUser = 0x2000, BranchPlmAll = 0x7, FlagAll = 0xf, Freq = 0x400;
    private const int BitsOffset = 40, Reserved2 = 110, Reserved3 = 116;

    // Flag fields checked against the kernel headers' bits, and the sample_type bit that makes the kernel look at them.
    private static readonly (string Field, string Table, ulong OnlyWith)[] FlagFields =
    [
        ("sample_type", "perf_sample_type", 0),
        ("read_format", "perf_read_format", 0),
        ("branch_sample_type", "perf_branch_sample_type", SampleBranchStack),
    ];

    // Flag pairs perf_copy_attr refuses (kernel/events/core.c, Linux 5.13+): the flag, the other flag, and whether
    // the other one is required (else it is excluded).
    private static readonly XlatTable AttrBits = Xlat.Table("perf_attr_bits");
    private static readonly (string Flag, string Other, bool Required)[] FlagPairs =
    [
        ("inherit_thread", "inherit", true),
        ("remove_on_exec", "enable_on_exec", false),
        ("sigtrap", "remove_on_exec", true),
    ];

    public bool AppliesTo(SyscallEvent ev) => ev.Errno == Errnos.EINVAL && ev.Syscall == "perf_event_open";

    public IEnumerable<Explanation> Explain(SyscallEvent ev, ProcessView proc)
    {
        var found = new List<Explanation>();
        var d = ev.Capture(0)?.Data;
        var layout = Xlat.Struct("perf_event_attr");
        proc.Checked.Add("the perf_event_attr fields and arguments perf_copy_attr and perf_event_open check");
        if (d is { Length: >= 64 })
        {
            ulong U64(int off) => off + 8 <= d.Length ? BinaryPrimitives.ReadUInt64LittleEndian(d.AsSpan(off)) : 0;
            uint U32(int off) => off + 4 <= d.Length ? BinaryPrimitives.ReadUInt32LittleEndian(d.AsSpan(off)) : 0;
            uint size = U32(layout.Off("size"));
            int avail = Math.Min(size == 0 ? 64 : (int)Math.Min(size, int.MaxValue), d.Length);
            if (avail >= Reserved2 + 2 && BinaryPrimitives.ReadUInt16LittleEndian(d.AsSpan(Reserved2)) != 0)
                found.Add(Field("__reserved_2", $"is {BinaryPrimitives.ReadUInt16LittleEndian(d.AsSpan(Reserved2))}, and reserved fields must be zero", true));
            if (avail >= Reserved3 + 4 && U32(Reserved3) != 0)
                found.Add(Field("__reserved_3", $"is {U32(Reserved3)}, and reserved fields must be zero", true));

            ulong sampleType = U64(layout.Off("sample_type"));
            foreach (var (field, table, onlyWith) in FlagFields)
            {
                if (onlyWith != 0 && (sampleType & onlyWith) == 0) continue;
                if (layout.Off(field) + 8 > avail) continue;
                ulong v = U64(layout.Off(field)), known = Xlat.Table(table).Entries.Aggregate(0UL, (a, e) => a | e.Value);
                if ((v & ~known) is var unknown and not 0)
                {
                    int bit = BitOperations.Log2(unknown);
                    var highest = Xlat.Table(table).Entries.MaxBy(e => e.Value);
                    found.Add(Field(field, $"= {Hex(v)} has bit {bit} ({Hex(1UL << bit)}){(BitOperations.PopCount(unknown) > 1 ? $" and {BitOperations.PopCount(unknown) - 1} more" : "")}, which the kernel headers do not define (the highest is {highest.Name} {Hex(highest.Value)}); the kernel probably rejects it as unknown", false));
                }
            }
            if ((sampleType & SampleBranchStack) != 0 && layout.Off("branch_sample_type") + 8 <= avail)
            {
                ulong b = U64(layout.Off("branch_sample_type"));
                if ((b & ~BranchPlmAll) == 0)
                    found.Add(Field("branch_sample_type", $"= {Hex(b)} names only privilege levels (user/kernel/hv) and no branch type, with PERF_SAMPLE_BRANCH_STACK in sample_type", true));
            }
            if ((sampleType & SampleStackUser) != 0 && layout.Off("sample_stack_user") + 4 <= avail)
            {
                uint s = U32(layout.Off("sample_stack_user"));
                if (s >= ushort.MaxValue || s % 8 != 0)
                    found.Add(Field("sample_stack_user", $"= {s} is {(s >= ushort.MaxValue ? "65535 or more" : "not a multiple of 8")}", true));
            }
            ulong bits = U64(BitsOffset), period = U64(layout.Off("sample_period"));
            bool Has(string flag) => (bits & AttrBits[flag]) != 0;
            foreach (var (flag, other, required) in FlagPairs)
                if (Has(flag) && Has(other) != required)
                    found.Add(Field(flag, required ? $"is set without {other}, which it needs" : $"and {other} are both set, and the kernel allows only one of them", true,
                        required ? $"set {other} too, or clear {flag}" : $"clear {flag} or {other}"));
            if ((bits & Freq) != 0)
            {
                long? rate = ProcFs.ReadLong("/proc/sys/kernel/perf_event_max_sample_rate");
                if (rate is { } r && period > (ulong)r)
                    found.Add(Field("sample_freq", $"= {period} is above kernel.perf_event_max_sample_rate ({r})", true,
                        $"ask for at most {r} samples per second, or raise kernel.perf_event_max_sample_rate"));
            }
            else if ((period & (1UL << 63)) != 0)
                found.Add(Field("sample_period", $"= {Hex(period)} has the top bit set (periods are below 2^63)", true));
        }
        int pid = (int)ev.Args[1], cpu = (int)ev.Args[2];
        if (pid == -1 && cpu == -1)
            found.Add(new Explanation(Id, "pid and cpu are both -1: a counter must watch one process (pid) or one CPU (cpu), or both", "pass pid 0 for the calling process, or a CPU number"));
        if ((ev.Args[4] & ~FlagAll) != 0)
            found.Add(new Explanation(Id, $"the flags argument {Hex(ev.Args[4])} has bits other than PERF_FLAG_FD_NO_GROUP, PERF_FLAG_FD_OUTPUT, PERF_FLAG_PID_CGROUP and PERF_FLAG_FD_CLOEXEC", null));
        return found;
    }

    private Explanation Field(string field, string what, bool certain, string? fix = null) =>
        new(Id, $"perf_event_attr.{field} {what}", fix ?? $"set {field} to a value this kernel accepts (see perf_event_open(2))", certain);

    private static string Hex(ulong v) => "0x" + v.ToString("x", CultureInfo.InvariantCulture);
}
