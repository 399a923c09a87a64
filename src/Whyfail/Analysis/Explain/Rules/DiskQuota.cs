using Whyfail.Events;
using static Whyfail.Analysis.Explain.Words;

namespace Whyfail.Analysis.Explain.Rules;

/// <summary>
/// EDQUOT: a disk quota refused the space or the new file. Which quota (user, group or project), whose, and its limit
/// and usage as quotactl(Q_GETQUOTA) reads them on the file system's device; btrfs qgroups are named, not read.
/// </summary>
public sealed class DiskQuota : IExplainRule
{
    public string Id => "fs.quota";

    public bool AppliesTo(SyscallEvent ev) => ev.Errno == Errnos.EDQUOT;

    public IEnumerable<Explanation> Explain(SyscallEvent ev, ProcessView proc)
    {
        foreach (var pa in SyscallArgs.Paths(ev))
        {
            var w = PathRules.Walk(ev, proc, pa);
            if (PathRules.NoteUnwalkable(proc, w)) continue;
            var c = PathRulesWrite.WrittenComponent(ev, pa, w) ?? w.Target ?? w.TargetDir;
            if (c is null) continue;
            // a file that exists is charged to its owner; a new one to the creator (and its directory's project)
            var existing = c.Exists ? c : c.Dir ?? w.TargetDir;
            if (existing is null) continue;
            uint uid = c.Exists ? c.Stat.Uid : proc.Creds.Fsuid, gid = c.Exists ? c.Stat.Gid : proc.Creds.Fsgid;
            var e = Describe(ev, proc, Q(pa.Path), existing.HostPath, existing.Mount, uid, gid, !c.Exists);
            if (e != null) { yield return e; yield break; }
        }
        foreach (var i in SyscallArgs.FdArgs(ev))
        {
            var fd = proc.Fd(SyscallArgs.Int(ev, i));
            if (fd is null || !fd.Target.StartsWith('/')) continue;
            var mount = proc.MountOf(fd);
            var host = proc.FdHostPath(fd.Fd);
            if (host is null || Native.Stat(host, out var st, follow: true) != 0) { proc.NoteLost($"the owner of descriptor {fd.Fd}'s file"); continue; }
            var e = Describe(ev, proc, $"descriptor {fd.Fd} ({Q(proc.FdTarget(fd))})", host, mount, st.Uid, st.Gid, false);
            if (e != null) { yield return e; yield break; }
        }
    }

    private Explanation? Describe(SyscallEvent ev, ProcessView proc, string what, string hostPath, MountEntry? m, uint uid, uint gid, bool creates)
    {
        if (m is null) return null;
        string where = $"the {m.FsType} file system mounted at {Q(m.MountPoint)}";
        ulong want = ev.Syscall is "write" or "pwrite64" ? ev.Args[2] : 0;
        if (m.FsType == "btrfs")
        {
            proc.Checked.Add($"the quota group of the subvolume on {where}");
            if (QuotaFacts.BtrfsQgroup(m.Source, hostPath) is not { } qg)
                return new Explanation(Id,
                    $"{what} is on {where}, where a btrfs quota group (qgroup) limit refused the space; the subvolume's qgroup could not be read",
                    $"see the limits with: btrfs qgroup show -reF {Sh(m.MountPoint)}", false);
            bool rferFull = qg.MaxReferenced > 0 && qg.Referenced + Math.Max(want, 1) > qg.MaxReferenced;
            bool exclFull = qg.MaxExclusive > 0 && qg.Exclusive + Math.Max(want, 1) > qg.MaxExclusive;
            string fix = $"free space in the subvolume, or raise its limit: btrfs qgroup limit SIZE {Sh(m.MountPoint)}/… (btrfs qgroup show -reF shows the limits)";
            if (rferFull || exclFull)
                return new Explanation(Id,
                    $"{what} is on {where}, in subvolume {qg.Subvolume}, whose btrfs quota group 0/{qg.Subvolume} is used up: {(rferFull ? $"{NoSpace.Bytes(qg.Referenced)} referenced of a {NoSpace.Bytes(qg.MaxReferenced)} limit" : $"{NoSpace.Bytes(qg.Exclusive)} exclusive of a {NoSpace.Bytes(qg.MaxExclusive)} limit")}{(want > 0 ? $", and the call wrote {N(want)} bytes" : "")}",
                    fix);
            // btrfs counts the space reserved for writes in flight (data and metadata) against the limit as well:
            // with no other limit on the file system, this one refused the call even when what is referenced now fits.
            if (qg.Limited && !qg.HigherLimits)
                return new Explanation(Id,
                    $"{what} is on {where}, in subvolume {qg.Subvolume}, whose btrfs quota group 0/{qg.Subvolume} has a limit of {(qg.MaxReferenced > 0 ? $"{NoSpace.Bytes(qg.MaxReferenced)} referenced ({NoSpace.Bytes(qg.Referenced)} now)" : $"{NoSpace.Bytes(qg.MaxExclusive)} exclusive ({NoSpace.Bytes(qg.Exclusive)} now)")}; btrfs counts the space reserved for writes not yet on disk against it too, so {(want > 0 ? $"the call's {N(want)} bytes" : "the call")} did not fit",
                    fix);
            return new Explanation(Id,
                $"{what} is on {where}, in subvolume {qg.Subvolume}, where a btrfs quota group limit refused the space; its qgroup 0/{qg.Subvolume} has {NoSpace.Bytes(qg.Referenced)} referenced now{(qg.MaxReferenced > 0 ? $" of {NoSpace.Bytes(qg.MaxReferenced)}" : " and no limit of its own")}, and a higher-level qgroup has a limit too (btrfs qgroup show -reF names them)",
                fix, false);
        }
        proc.Checked.Add($"the user, group and project quotas on {m.Source}");
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var quotas = new List<QuotaUsage>();
        if (QuotaFacts.Get(m.Source, "user", uid) is { } u) quotas.Add(u);
        if (QuotaFacts.Get(m.Source, "group", gid) is { } g) quotas.Add(g);
        if (QuotaFacts.ProjectId(hostPath) is { } pid and > 0 && QuotaFacts.Get(m.Source, "project", pid) is { } p) quotas.Add(p);
        string Whose(QuotaUsage q) => q.Kind switch
        {
            "user" => $"user {proc.DescribeUser(q.Id)}",
            "group" => $"group {proc.DescribeGroup(q.Id)}",
            _ => $"project {q.Id}",
        };
        string Opt(QuotaUsage q) => q.Kind switch { "user" => "-u", "group" => "-g", _ => "-P" };
        foreach (var q in quotas)
        {
            if (q.SpaceRefuses(want, now))
            {
                bool soft = !(q.SpaceHard > 0 && q.SpaceUsed + Math.Max(want, 1) > q.SpaceHard);
                return new Explanation(Id,
                    $"{what} is on {where}, where the {q.Kind} quota of {Whose(q)} is used up: {NoSpace.Bytes(q.SpaceUsed)} used of a {(soft ? "soft" : "hard")} limit of {NoSpace.Bytes(soft ? q.SpaceSoft : q.SpaceHard)}{(soft ? " whose grace time has run out" : "")}{(want > 0 ? $", and the call wrote {N(want)} bytes" : "")}",
                    $"free space owned by that {q.Kind}, or raise the limit: setquota {Opt(q)} {q.Id} … {Sh(m.MountPoint)} (repquota {Opt(q)} {Sh(m.MountPoint)} shows them)");
            }
            if (creates && q.FilesRefuse(now))
                return new Explanation(Id,
                    $"{what} is on {where}, where the {q.Kind} quota of {Whose(q)} allows no more files: {N(q.FilesUsed)} in use, limit {N(q.FilesHard > 0 ? q.FilesHard : q.FilesSoft)}",
                    $"remove files owned by that {q.Kind}, or raise its inode limit: setquota {Opt(q)} {q.Id} … {Sh(m.MountPoint)}");
        }
        var limited = quotas.Where(q => q.HasLimits).ToList();
        if (limited.Count == 0)
            return new Explanation(Id,
                $"{what} is on {where}; a disk quota refused it, but no user, group or project quota with a limit can be read there now (uid {uid}, gid {gid})",
                $"see the quotas with: repquota -ugP {Sh(m.MountPoint)}", false);
        var q0 = limited[0];
        return new Explanation(Id,
            $"{what} is on {where}, where the {q0.Kind} quota of {Whose(q0)} has {NoSpace.Bytes(q0.SpaceUsed)} used of {NoSpace.Bytes(q0.SpaceHard > 0 ? q0.SpaceHard : q0.SpaceSoft)} now; it was probably used up at the time of the call (space freed since)",
            null, false);
    }
}
