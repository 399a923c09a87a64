namespace Whyfail.Tracing.Inject;

/// <summary>
/// Which reported calls whyfail injected. The supervisor writes down each call it answered with an error or a value
/// (thread, syscall, return value) before it answers, so the call's sys_exit event, which can only come after the answer,
/// finds it: exact. Calls the kernel failed by SECCOMP_RET_ERRNO are recognised by the filter's verdict: the thread is under
/// the filter (everything whyfail reports of a command it started is), the syscall is one a plain rule fails, and the errno
/// is that rule's.
/// </summary>
public sealed class InjectLedger
{
    private sealed record Entry(int Nr, long Ret, string Why);

    private readonly Dictionary<int, List<Entry>> pending = [];

    /// <summary>Calls injected by the supervisor (with or without an event in the trace).</summary>
    public long BySupervisor { get; private set; }

    public void Add(int tid, int nr, long ret, string why)
    {
        lock (pending)
        {
            if (!pending.TryGetValue(tid, out var list)) pending[tid] = list = [];
            list.Add(new Entry(nr, ret, why));
            BySupervisor++;
        }
    }

    public void Forget(int tid, int nr)
    {
        lock (pending)
            if (pending.TryGetValue(tid, out var list) && list.FindLastIndex(e => e.Nr == nr) is var i and >= 0)
            {
                list.RemoveAt(i);
                BySupervisor--;
            }
    }

    /// <summary>Takes the supervisor's record of this call, if it injected it: the sentence saying how.</summary>
    public string? Take(int tid, int nr, long ret)
    {
        lock (pending)
        {
            if (!pending.TryGetValue(tid, out var list)) return null;
            int i = list.FindIndex(e => e.Nr == nr && e.Ret == ret);
            if (i < 0) return null;
            var why = list[i].Why;
            list.RemoveAt(i);
            if (list.Count == 0) pending.Remove(tid);
            return why;
        }
    }
}
