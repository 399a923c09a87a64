using Whyfail.Capture.Bpf;

namespace Whyfail.Capture;

/// <summary>
/// io_uring completions with an error (issue 14: errors delivered as data): which of the programs in
/// bpf/whyfail.bpf.c fit this kernel's tracepoints. The submit tracepoint gives the request's opcode
/// (io_uring_submit_sqe before 6.3, io_uring_submit_req since); io_uring_complete passes user_data and res
/// as arguments up to 6.12 (7 arguments) and the CQE later (3 arguments).
/// </summary>
public static class UringCompletions
{
    public static readonly string[] AllPrograms =
        [BpfPrograms.OnUringSubmitReq, BpfPrograms.OnUringSubmitSqe, BpfPrograms.OnUringCompleteArgs, BpfPrograms.OnUringCompleteCqe];

    /// <summary>Set to 0 to leave io_uring completions out (a kernel whose io_uring tracepoints misbehave).</summary>
    public const string Variable = "WHYFAIL_URING";

    /// <summary>The programs to load and attach here, or none with the reason.</summary>
    public static (IReadOnlyList<string> Programs, string? WhyNot) Choose()
    {
        if (Environment.GetEnvironmentVariable(Variable) == "0") return ([], $"{Variable}=0");
        string? submit = KernelChecks.HasTracepoint("io_uring_submit_req") ? BpfPrograms.OnUringSubmitReq
            : KernelChecks.HasTracepoint("io_uring_submit_sqe") ? BpfPrograms.OnUringSubmitSqe : null;
        if (submit is null) return ([], "no io_uring submit tracepoint in this kernel");
        string? complete = BtfIdCache.TracepointArity("io_uring_complete") switch
        {
            7 => BpfPrograms.OnUringCompleteArgs,
            3 => BpfPrograms.OnUringCompleteCqe,
            _ => null,
        };
        if (complete is null) return ([], "the io_uring_complete tracepoint has a shape whyfail does not know");
        return ([submit, complete], null);
    }
}
