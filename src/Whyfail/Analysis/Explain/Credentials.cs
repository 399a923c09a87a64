namespace Whyfail.Analysis.Explain;

/// <summary>Access bits as the kernel's permission check uses them (MAY_EXEC, MAY_WRITE, MAY_READ).</summary>
[Flags]
public enum Access { None = 0, Exec = 1, Write = 2, Read = 4 }

/// <summary>
/// Linux capability numbers the rules compare with (constants, for patterns): Cap.g.cs, written by tools/gen-xlat from
/// the generated table (Decoding/Data/xlat.tsv, "capabilities"), which also gives the names.
/// </summary>
public static partial class Cap
{
    /// <summary>"CAP_SYS_ADMIN" for 21; "capability N" for a number the headers do not name.</summary>
    public static string Name(int cap) => Decoding.Capabilities.Name(cap) ?? $"capability {cap}";
}

/// <summary>
/// The credentials a process acts with: real/effective/saved/file-system ids, supplementary groups, capabilities.
/// <see cref="Live"/> is false when /proc/PID/status could not be read and the values come from the event alone
/// (then groups and capabilities are unknown and guessed: full capabilities for euid 0, none otherwise).
/// </summary>
public sealed record Credentials(
    uint Uid, uint Euid, uint Suid, uint Fsuid,
    uint Gid, uint Egid, uint Sgid, uint Fsgid,
    IReadOnlyList<uint> Groups, ulong CapEff, ulong CapPrm, ulong CapBnd,
    bool NoNewPrivs, int Seccomp, bool Live)
{
    public bool HasCap(int cap) => ((CapEff >> cap) & 1) != 0;

    /// <summary>True when <paramref name="gid"/> is the fs gid or a supplementary group (in_group_p).</summary>
    public bool InGroup(uint gid) => Fsgid == gid || Groups.Contains(gid);

    /// <summary>
    /// The credentials access(2)/faccessat(2) check with: the real ids instead of the effective ones, and for a
    /// non-root real uid no capabilities (root gets its permitted set).
    /// </summary>
    public Credentials ForAccessCheck() => this with
    {
        Fsuid = Uid, Fsgid = Gid,
        CapEff = Uid == 0 ? CapPrm : 0,
    };

    /// <summary>Builds credentials from a status file (proc/PID/status) text; null when the lines are missing.</summary>
    internal static Credentials? FromStatus(string status)
    {
        uint[]? uids = null, gids = null;
        uint[] groups = [];
        ulong capEff = 0, capPrm = 0, capBnd = 0;
        bool nnp = false;
        int seccomp = 0;
        foreach (var raw in status.Split('\n'))
        {
            int colon = raw.IndexOf(':');
            if (colon < 0) continue;
            var key = raw[..colon];
            var val = raw[(colon + 1)..].Trim();
            switch (key)
            {
                case "Uid": uids = ParseIds(val); break;
                case "Gid": gids = ParseIds(val); break;
                case "Groups": groups = ParseIds(val); break;
                case "CapEff": capEff = ParseHex(val); break;
                case "CapPrm": capPrm = ParseHex(val); break;
                case "CapBnd": capBnd = ParseHex(val); break;
                case "NoNewPrivs": nnp = val == "1"; break;
                case "Seccomp": int.TryParse(val, out seccomp); break;
            }
        }
        if (uids is not { Length: 4 } || gids is not { Length: 4 }) return null;
        return new Credentials(uids[0], uids[1], uids[2], uids[3], gids[0], gids[1], gids[2], gids[3], groups,
            capEff, capPrm, capBnd, nnp, seccomp, true);
    }

    private static uint[] ParseIds(string s)
    {
        var parts = s.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        var r = new List<uint>(parts.Length);
        foreach (var p in parts) if (uint.TryParse(p, out var v)) r.Add(v);
        return [.. r];
    }

    private static ulong ParseHex(string s) => ulong.TryParse(s, System.Globalization.NumberStyles.HexNumber, null, out var v) ? v : 0;
}

/// <summary>One entry of a POSIX ACL (system.posix_acl_access).</summary>
public readonly record struct AclEntry(AclTag Tag, Access Perm, uint Id)
{
    public override string ToString()
    {
        string p = $"{((Perm & Access.Read) != 0 ? 'r' : '-')}{((Perm & Access.Write) != 0 ? 'w' : '-')}{((Perm & Access.Exec) != 0 ? 'x' : '-')}";
        return Tag switch
        {
            AclTag.UserObj => $"user::{p}", AclTag.User => $"user:{Id}:{p}", AclTag.GroupObj => $"group::{p}",
            AclTag.Group => $"group:{Id}:{p}", AclTag.Mask => $"mask::{p}", _ => $"other::{p}",
        };
    }
}

public enum AclTag : ushort { UserObj = 0x01, User = 0x02, GroupObj = 0x04, Group = 0x08, Mask = 0x10, Other = 0x20 }

/// <summary>Which permission class decided an access check.</summary>
public enum PermClass { Owner, Group, Other, AclUser, AclGroup, AclOther }

/// <summary>The outcome of one permission check, with what decided it.</summary>
/// <param name="Allowed">Whether the access is granted.</param>
/// <param name="Class">Which bits applied.</param>
/// <param name="ByCapability">The capability that granted it despite the bits (e.g. CAP_DAC_OVERRIDE), or null.</param>
/// <param name="AclEntry">The ACL entry that applied, when an ACL decided.</param>
/// <param name="AclMask">The ACL mask entry's bits when an ACL decided and has a mask.</param>
public sealed record PermCheck(bool Allowed, PermClass Class, string? ByCapability, AclEntry? AclEntry, Access Missing)
{
    public Access? AclMask { get; init; }
}

public static class Permissions
{
    /// <summary>
    /// The access ACL of the file at <paramref name="path"/> (stat <paramref name="st"/>), null when it has none: only
    /// regular files and directories are asked (the kernel keeps none on symlinks, and reading a device's or FIFO's
    /// xattrs is not wanted).
    /// </summary>
    public static IReadOnlyList<AclEntry>? AclOf(string path, in FileStat st) =>
        st.Kind is FileKind.Regular or FileKind.Directory ? ParseAcl(Native.GetXattr(path, "system.posix_acl_access")) : null;

    /// <summary>Parses the binary system.posix_acl_access value (version 2, 8-byte entries).</summary>
    public static IReadOnlyList<AclEntry>? ParseAcl(byte[]? value)
    {
        if (value is null || value.Length < 4 || BitConverter.ToUInt32(value, 0) != 2) return null;
        var r = new List<AclEntry>();
        for (int o = 4; o + 8 <= value.Length; o += 8)
            r.Add(new AclEntry((AclTag)BitConverter.ToUInt16(value, o), (Access)(BitConverter.ToUInt16(value, o + 2) & 7), BitConverter.ToUInt32(value, o + 4)));
        return r;
    }

    /// <summary>
    /// The kernel's generic_permission for one inode: owner/ACL/group/other bits, then the capability overrides
    /// (CAP_DAC_READ_SEARCH, CAP_DAC_OVERRIDE) exactly as fs/namei.c applies them.
    /// </summary>
    public static PermCheck Check(Credentials c, in FileStat st, Access want, IReadOnlyList<AclEntry>? acl = null)
    {
        want &= Access.Read | Access.Write | Access.Exec;
        PermClass cls;
        Access granted;
        AclEntry? decided = null;
        bool hasExtendedAcl = acl is not null && acl.Any(e => e.Tag is AclTag.User or AclTag.Group or AclTag.Mask);
        if (c.Fsuid == st.Uid)
        {
            cls = PermClass.Owner;
            granted = (Access)((st.Mode >> 6) & 7);
        }
        else if (hasExtendedAcl)
        {
            (granted, cls, decided) = AclCheck(c, st, want, acl!);
        }
        else if (c.InGroup(st.Gid))
        {
            cls = PermClass.Group;
            granted = (Access)((st.Mode >> 3) & 7);
        }
        else
        {
            cls = PermClass.Other;
            granted = (Access)(st.Mode & 7);
        }
        Access? aclMask = null;
        if (hasExtendedAcl && cls is PermClass.AclUser or PermClass.AclGroup)
            foreach (var e in acl!) if (e.Tag == AclTag.Mask) aclMask = e.Perm;
        var r = Decide(c, st, want, cls, granted, decided);
        return r with { AclMask = aclMask };
    }

    private static PermCheck Decide(Credentials c, in FileStat st, Access want, PermClass cls, Access granted, AclEntry? decided)
    {
        var missing = want & ~granted;
        if (missing == 0) return new PermCheck(true, cls, null, decided, 0);

        if (st.Kind == FileKind.Directory)
        {
            if ((want & Access.Write) == 0 && c.HasCap(Cap.DAC_READ_SEARCH))
                return new PermCheck(true, cls, "CAP_DAC_READ_SEARCH", decided, 0);
            if (c.HasCap(Cap.DAC_OVERRIDE)) return new PermCheck(true, cls, "CAP_DAC_OVERRIDE", decided, 0);
            return new PermCheck(false, cls, null, decided, missing);
        }
        if (want == Access.Read && c.HasCap(Cap.DAC_READ_SEARCH))
            return new PermCheck(true, cls, "CAP_DAC_READ_SEARCH", decided, 0);
        if (((want & Access.Exec) == 0 || (st.Mode & 0x49) != 0) && c.HasCap(Cap.DAC_OVERRIDE))
            return new PermCheck(true, cls, "CAP_DAC_OVERRIDE", decided, 0);
        return new PermCheck(false, cls, null, decided, missing);
    }

    // posix_acl_permission(): the first matching entry decides, masked by the mask entry for the group class.
    private static (Access granted, PermClass cls, AclEntry? entry) AclCheck(Credentials c, in FileStat st, Access want, IReadOnlyList<AclEntry> acl)
    {
        Access mask = (Access)7;
        foreach (var e in acl) if (e.Tag == AclTag.Mask) mask = e.Perm;
        foreach (var e in acl)
            if (e.Tag == AclTag.User && e.Id == c.Fsuid) return (e.Perm & mask, PermClass.AclUser, e);
        AclEntry? matched = null;
        foreach (var e in acl)
        {
            bool match = (e.Tag == AclTag.GroupObj && c.InGroup(st.Gid)) || (e.Tag == AclTag.Group && c.InGroup(e.Id));
            if (!match) continue;
            if ((e.Perm & mask & want) == want) return (e.Perm & mask, PermClass.AclGroup, e);
            matched ??= e;
        }
        if (matched is { } m) return (m.Perm & mask, PermClass.AclGroup, m);
        foreach (var e in acl)
            if (e.Tag == AclTag.Other) return (e.Perm, PermClass.AclOther, e);
        return (0, PermClass.AclOther, null);
    }
}
