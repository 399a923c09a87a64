using Whyfail.Events;

namespace Whyfail.Analysis.Explain.Rules;

/// <summary>EADDRNOTAVAIL from bind: the address is not one of this network namespace's addresses.</summary>
public sealed class AddressNotAvailable : IExplainRule
{
    public string Id => "net.address_not_available";

    public bool AppliesTo(SyscallEvent ev) => ev.Errno == Errnos.EADDRNOTAVAIL && ev.Syscall == "bind";

    public IEnumerable<Explanation> Explain(SyscallEvent ev, ProcessView proc)
    {
        var sa = SockAddr.Decode(ev.Capture(1)?.Data);
        if (sa is not { IsInet: true }) yield break;
        if (proc.NetDir is null) { proc.Checked.Add($"the addresses of pid {proc.Pid}'s network namespace (not read: {proc.NetUnreadable})"); yield break; }
        var addrs = Net.LocalAddresses(proc);
        var ns = proc.OtherNetNamespace ? proc.NetNsName : $"pid {proc.Pid}'s network namespace";
        proc.Checked.Add($"the addresses of {ns}");
        if (Net.IsLocal(proc, sa.Plain!)) yield break;
        var list = string.Join(", ", addrs.Select(a => a.ToString()).Order(StringComparer.Ordinal).Take(8));
        yield return new Explanation(Id,
            $"{sa.Plain} is not an address of this machine in {ns} (its addresses: {list}), so nothing can be bound to it",
            "bind to one of the machine's addresses or to 0.0.0.0/::, or set net.ipv4.ip_nonlocal_bind=1 if the address comes later");
    }
}
