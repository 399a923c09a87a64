using System.Runtime.InteropServices;
using Whyfail.Capture.Native;
using static Whyfail.Capture.Native.Libc;

namespace Whyfail.Analysis.Evidence;

/// <summary>
/// The kernel audit subsystem's state (AUDIT_GET on a unicast NETLINK_AUDIT socket; needs CAP_AUDIT_CONTROL).
/// What matters to whyfail is <see cref="Enabled"/>: Landlock logs its denials only when audit is enabled
/// (0 = disabled, the default without auditd or <c>audit=1</c> on the kernel command line; 1 = enabled;
/// 2 = enabled and locked until reboot), while AppArmor and SELinux log them either way.
/// </summary>
public sealed record AuditStatus(uint Enabled, uint DaemonPid, uint Lost)
{
    // struct audit_status up to backlog_wait_time: mask, enabled, failure, pid, rate_limit, backlog_limit, lost,
    // backlog, feature_bitmap, backlog_wait_time (all u32).
    private const int StatusSize = 40;

    /// <summary>Reads the state, or null with the reason.</summary>
    public static AuditStatus? Query(out string? whyNot)
    {
        var reply = Exchange(AUDIT_GET, null, out whyNot);
        if (reply is null) return null;
        if (reply.Length < StatusSize) { whyNot = "short AUDIT_GET reply"; return null; }
        return new AuditStatus(U32(reply, 4), U32(reply, 12), U32(reply, 24));
    }

    /// <summary>
    /// Turns audit on (1) or off (0), as <c>auditctl -e</c> does. whyfail itself never calls this: it is for tests
    /// that need Landlock's records on a machine where audit is off, and that put the old state back.
    /// </summary>
    internal static bool SetEnabled(uint enabled, out string? error)
    {
        var status = new byte[StatusSize];
        BitConverter.TryWriteBytes(status.AsSpan(0), AUDIT_STATUS_ENABLED);
        BitConverter.TryWriteBytes(status.AsSpan(4), enabled);
        return Exchange(AUDIT_SET, status, out error) is not null;
    }

    private static uint U32(byte[] b, int off) => BitConverter.ToUInt32(b, off);

    /// <summary>Sends one request and returns the payload of the reply (AUDIT_GET) or of the acknowledgement.</summary>
    private static unsafe byte[]? Exchange(ushort type, byte[]? payload, out string? error)
    {
        int s = Libc.Socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT);
        if (s < 0) { error = $"no audit netlink socket ({Marshal.GetLastPInvokeErrorMessage()})"; return null; }
        try
        {
            long* tv = stackalloc long[2];
            tv[0] = 1; tv[1] = 0;
            Libc.SetSockOpt(s, SOL_SOCKET, SO_RCVTIMEO, tv, 16);
            int len = 16 + (payload?.Length ?? 0);
            var msg = new byte[len];
            BitConverter.TryWriteBytes(msg.AsSpan(0), len);
            BitConverter.TryWriteBytes(msg.AsSpan(4), type);
            BitConverter.TryWriteBytes(msg.AsSpan(6), (ushort)(NLM_F_REQUEST | NLM_F_ACK));
            BitConverter.TryWriteBytes(msg.AsSpan(8), 1);
            payload?.CopyTo(msg, 16);
            // Kernel address: sockaddr_nl with nl_pid 0.
            byte* addr = stackalloc byte[12];
            new Span<byte>(addr, 12).Clear();
            *(ushort*)addr = AF_NETLINK;
            fixed (byte* m = msg)
                if (Libc.SendTo(s, m, len, 0, addr, 12) != len) { error = $"audit request refused ({Marshal.GetLastPInvokeErrorMessage()})"; return null; }
            var buf = new byte[8192];
            // The acknowledgement (error 0) and, for AUDIT_GET, the status, in either order.
            byte[]? ack = null;
            for (int i = 0; i < 4; i++)
            {
                nint n;
                fixed (byte* b = buf) n = Libc.Recv(s, b, buf.Length, 0);
                if (n < 16) { error = $"no answer from the audit subsystem ({Marshal.GetLastPInvokeErrorMessage()})"; return null; }
                int rtype = BitConverter.ToUInt16(buf, 4), rlen = Math.Min(BitConverter.ToInt32(buf, 0), (int)n);
                if (rtype == NLMSG_ERROR)
                {
                    int err = BitConverter.ToInt32(buf, 16);
                    if (err != 0) { error = $"the audit subsystem refused the request ({Marshal.GetPInvokeErrorMessage(-err)})"; return null; }
                    ack = [];
                    if (type != AUDIT_GET) break;
                }
                else if (rtype == type) { error = null; return buf[16..rlen]; }
            }
            error = ack is null || type == AUDIT_GET ? "no answer from the audit subsystem" : null;
            return error is null ? ack : null;
        }
        finally
        {
            Libc.Close(s);
        }
    }

}
