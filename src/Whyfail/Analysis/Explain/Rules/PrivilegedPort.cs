using Whyfail.Events;

namespace Whyfail.Analysis.Explain.Rules;

/// <summary>EACCES from bind to a port below net.ipv4.ip_unprivileged_port_start without CAP_NET_BIND_SERVICE.</summary>
public sealed class PrivilegedPort : IExplainRule
{
    public string Id => "net.privileged_port";

    public bool AppliesTo(SyscallEvent ev) => ev.Errno == Errnos.EACCES && ev.Syscall == "bind";

    public IEnumerable<Explanation> Explain(SyscallEvent ev, ProcessView proc)
    {
        var sa = SockAddr.Decode(ev.Capture(1)?.Data);
        if (sa is not { IsInet: true } || sa.Port == 0) yield break;
        long start = ProcFs.ReadLong("/proc/sys/net/ipv4/ip_unprivileged_port_start") ?? 1024;
        var c = proc.Creds;
        proc.Checked.Add($"port {sa.Port} against net.ipv4.ip_unprivileged_port_start ({start}) and CAP_NET_BIND_SERVICE");
        if (sa.Port >= start || c.HasCap(Cap.NET_BIND_SERVICE)) yield break;
        bool sure = !proc.OtherNetNamespace && c.Live;
        yield return new Explanation(Id,
            $"port {sa.Port} is below net.ipv4.ip_unprivileged_port_start ({start}{(proc.OtherNetNamespace ? " in this analyser's namespace; the process's network namespace may differ" : "")}), and pid {proc.Pid} ({proc.DescribeUser(c.Euid)}) does not have CAP_NET_BIND_SERVICE (effective capabilities {c.CapEff:x16})",
            $"use a port ≥ {start}, or grant the capability (setcap cap_net_bind_service=+ep PROGRAM, or AmbientCapabilities=CAP_NET_BIND_SERVICE in a systemd unit)",
            sure);
    }
}
