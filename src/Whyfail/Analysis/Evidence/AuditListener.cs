using System.Runtime.InteropServices;
using System.Text;
using Whyfail.Events;
using Whyfail.Capture;
using Whyfail.Capture.Native;
using static Whyfail.Capture.Native.Libc;

namespace Whyfail.Analysis.Evidence;

/// <summary>
/// LSM denial evidence from the kernel's audit log: listens on the audit netlink socket's read-only multicast group
/// (NETLINK_AUDIT, AUDIT_NLGRP_READLOG; needs CAP_AUDIT_READ, works without auditd and without kprobes, and
/// leaves auditd's own connection alone) and attaches each denial record to the failing call of the same process:
/// an EACCES or EPERM whose exit is at or after the record's time, whose path (when both have one) names the same
/// file, and which has not claimed the record already. The kernel sends the record from its kauditd thread, so a
/// failure may be analysed briefly before its record arrives: when a logging LSM is active, EACCES/EPERM wait up to
/// <see cref="WaitMs"/> for it.
/// AppArmor and SELinux log their denials whether or not audit is enabled; Landlock (kernel 6.15+) only when it is,
/// and its records carry no pid of their own: <see cref="LandlockLinks"/> joins them to the SYSCALL record of the same
/// event (the pid) and to the domain's creator; a Landlock denial without a pid is matched by the file it names.
/// </summary>
public sealed class AuditListener : IDisposable
{
    /// <summary>Records older than this (relative to the newest failure) are dropped unclaimed.</summary>
    private const long KeepMs = 5000;
    public const int WaitMs = 50;
    private const int MaxPending = 4096;

    private readonly int fd;
    private readonly Thread thread;
    private readonly List<AuditRecord> pending = [];
    private readonly LandlockLinks? landlock;
    private volatile bool stop;

    /// <summary>The security modules active on this kernel (from /sys/kernel/security/lsm), empty when unknown.</summary>
    public IReadOnlyList<string> ActiveLsms { get; }
    /// <summary>
    /// True when a module that logs denials is active and can log them now: AppArmor and SELinux always, Landlock
    /// when audit is enabled.
    /// </summary>
    public bool WaitForRecords { get; }
    /// <summary>The audit subsystem's state when the listener started; null when it could not be read.</summary>
    public AuditStatus? Status { get; }

    private AuditListener(int fd, IReadOnlyList<string> lsms, AuditStatus? status)
    {
        this.fd = fd;
        ActiveLsms = lsms;
        Status = status;
        bool landlockLogs = lsms.Contains("landlock") && status is not { Enabled: 0 };
        if (landlockLogs) landlock = new LandlockLinks();
        WaitForRecords = lsms.Contains("apparmor") || lsms.Contains("selinux") || lsms.Count == 0 || landlockLogs;
        thread = new Thread(Receive) { IsBackground = true, Name = "whyfail audit" };
        thread.Start();
    }

    /// <summary>Starts listening, or returns null with the reason (no audit support, no CAP_AUDIT_READ, no LSM).</summary>
    public static unsafe AuditListener? Start(out string? whyNot)
    {
        var lsms = SecurityFs.ActiveLsms()?.ToArray() ?? [];
        if (lsms.Length > 0 && !lsms.Any(l => l is "apparmor" or "selinux" or "landlock" or "smack" or "tomoyo"))
        {
            whyNot = $"no security module that logs denials is active ({string.Join(",", lsms)})";
            return null;
        }
        var status = AuditStatus.Query(out _);
        if (status is { Enabled: 0 } && lsms.Contains("landlock") && !lsms.Any(l => l is "apparmor" or "selinux" or "smack" or "tomoyo"))
        {
            whyNot = $"audit is disabled, and Landlock, the only active security module that logs denials ({string.Join(",", lsms)}), " +
                "logs them only when it is enabled (auditctl -e 1, or audit=1 on the kernel command line)";
            return null;
        }
        int s = Libc.Socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT);
        if (s < 0) { whyNot = $"no audit netlink socket ({Errno()})"; return null; }
        byte* addr = stackalloc byte[12];
        new Span<byte>(addr, 12).Clear();
        *(ushort*)addr = AF_NETLINK;
        *(uint*)(addr + 8) = 1u << (AUDIT_NLGRP_READLOG - 1);
        long* tv = stackalloc long[2];
        tv[0] = 0; tv[1] = 200_000;
        if (Libc.Bind(s, addr, 12) != 0)
        {
            whyNot = $"cannot join the audit log's multicast group ({Errno()}; it needs CAP_AUDIT_READ)";
            Libc.Close(s);
            return null;
        }
        Libc.SetSockOpt(s, SOL_SOCKET, SO_RCVTIMEO, tv, 16);
        whyNot = null;
        return new AuditListener(s, lsms, status);
    }

    private unsafe void Receive()
    {
        var buf = new byte[16384];
        while (!stop)
        {
            int n;
            fixed (byte* b = buf) n = (int)Libc.Recv(fd, b, buf.Length, 0);
            if (n < 16) continue;
            int off = 0;
            while (off + 16 <= n)
            {
                int len = BitConverter.ToInt32(buf, off);
                int type = BitConverter.ToUInt16(buf, off + 4);
                if (len < 16 || off + len > n) break;
                var body = Encoding.UTF8.GetString(buf, off + 16, len - 16).TrimEnd('\0', '\n');
                if (AuditRecord.Parse(type, body) is { } rec && (rec.Lsm is not null || landlock is not null))
                    lock (pending)
                    {
                        landlock?.Saw(rec, pending);
                        if (rec.Lsm is not null)
                        {
                            // Unclaimed records (denials in calls that were not traced or did not fail) age out.
                            if (pending.Count >= MaxPending) pending.RemoveAll(r => r.TimeMs < rec.TimeMs - KeepMs);
                            if (pending.Count >= MaxPending) pending.RemoveRange(0, pending.Count / 2);
                            pending.Add(rec);
                        }
                        Monitor.PulseAll(pending);
                    }
                off += (len + 3) & ~3;
            }
        }
    }

    /// <summary>Adds the denials logged during <paramref name="ev"/> to its evidence.</summary>
    public void Attach(SyscallEvent ev)
    {
        if (ev.Errno is not (Errnos.EACCES or Errnos.EPERM)) return;
        long exitMs = (long)((ev.TimestampNs + (ulong)RealtimeMinusMonotonicNs()) / 1_000_000);
        var names = Explain.SyscallArgs.Paths(ev).Select(p => LastComponent(p.Path)).Where(n => n.Length > 0).ToHashSet(StringComparer.Ordinal);
        var deadline = Environment.TickCount64 + (WaitForRecords ? WaitMs : 0);
        lock (pending)
        {
            while (true)
            {
                pending.RemoveAll(r => r.TimeMs < exitMs - KeepMs);
                long left = deadline - Environment.TickCount64;
                var mine = pending.Where(r => r.TimeMs <= exitMs + 1 && Mine(r, ev.Pid, names, final: left <= 0)).ToList();
                if (mine.Count > 0)
                {
                    foreach (var r in mine) { pending.Remove(r); ev.Evidence.Add(new LsmEvidence(r)); }
                    return;
                }
                if (left <= 0) return;
                Monitor.Wait(pending, (int)left);
            }
        }
    }

    internal static bool Mine(AuditRecord r, int pid, HashSet<string> names, bool final)
    {
        if (r.Lsm != "landlock") return r.Pid == pid && SameObject(r, names);
        // A Landlock denial waits (within the deadline) for the rest of its event: the pid, the domain's creator.
        if (!r.Complete && !final) return false;
        if (r.Pid != 0) return r.Pid == pid && SameObject(r, names);
        // No pid (the task has no audit context): only a denial naming the file the call names.
        return names.Count > 0 && r.Field("path") is { } path && names.Contains(LastComponent(path));
    }

    // A file denial names the file; when the call has paths, one of them must end in the same name.
    private static bool SameObject(AuditRecord r, HashSet<string> names)
    {
        if (names.Count == 0) return true;
        bool file = r.Field("class") == "file" || r.Field("tclass") is "file" or "dir" or "lnk_file" || r.Field("path") is not null;
        var name = r.Field("name") ?? r.Field("path");
        return !file || name is null || names.Contains(LastComponent(name));
    }

    private static string LastComponent(string p)
    {
        p = p.TrimEnd('/');
        int i = p.LastIndexOf('/');
        return i >= 0 ? p[(i + 1)..] : p;
    }

    private static unsafe long RealtimeMinusMonotonicNs()
    {
        long* a = stackalloc long[2];
        long* b = stackalloc long[2];
        Libc.ClockGetTime(0, a);
        Libc.ClockGetTime(1, b);
        return (a[0] - b[0]) * 1_000_000_000 + (a[1] - b[1]);
    }

    public void Dispose()
    {
        stop = true;
        thread.Join(1000);
        Libc.Close(fd);
    }

    private static string Errno() => Marshal.GetLastPInvokeErrorMessage();

}
