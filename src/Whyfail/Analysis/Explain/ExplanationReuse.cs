using System.Text;
using Whyfail.Events;

namespace Whyfail.Analysis.Explain;

/// <summary>
/// Identical failures share one explanation. A program that fails the same way in a loop (a retry loop, a
/// poll on a missing file, a flood under --system) would otherwise have the live state read and every rule
/// run for each failure, ~200 µs apiece: whyfail would fall behind the kernel and lose events.
///
/// Two failures are identical when the same process made the same call with the same decoded arguments
/// (addresses masked: a buffer's address does not change a cause), got the same error, with the same
/// credentials, the same kernel evidence and origin, and the same captured context (cwd, root, descriptor
/// files, limits), within <see cref="Window"/> of the failure whose explanation is reused (its live state
/// was read then). Anything that differs — another path, descriptor, errno, process — is explained afresh.
/// </summary>
public sealed class ExplanationReuse
{
    /// <summary>How long, in the kernel's event time, an explanation stays valid for identical failures.</summary>
    public const ulong Window = 1_000_000_000;

    /// <summary>Explanations kept; beyond, the oldest half is dropped (bounded memory under --system).</summary>
    public const int Capacity = 4096;

    private readonly Dictionary<string, (ulong Ts, Explanation[] Found)> _byKey = new(StringComparer.Ordinal);
    private readonly StringBuilder _sb = new(256);

    /// <summary>
    /// What decided the last keys made, and the keys: a flood of one failure (the capture and decoding share its arguments'
    /// strings and its context between records, by reference) has the same key again, and building it (every decoded
    /// argument and the whole context as text) was most of a reused explanation's cost (issue 16: a flood explained). A few
    /// are kept, as threads of one process that fail alike take turns (each thread's context is an object of its own).
    /// </summary>
    private sealed record KeyParts(int Pid, int Nr, long Ret, long KernelRet, uint Uid, uint Euid, uint Gid, uint Egid, bool ErrorAsData,
        bool CaptureTruncated, byte[]? ConnectedTo, uint ConnectedNetNs, IReadOnlyList<string> DecodedArgs, FailureContext? Context)
    {
        public bool Of(SyscallEvent ev) => ev.Pid == Pid && ev.Nr == Nr && ev.Ret == Ret && ev.KernelRet == KernelRet && ev.Uid == Uid &&
            ev.Euid == Euid && ev.Gid == Gid && ev.Egid == Egid && ev.ErrorAsData == ErrorAsData && ev.CaptureTruncated == CaptureTruncated &&
            ReferenceEquals(ev.ConnectedTo, ConnectedTo) && ev.ConnectedNetNs == ConnectedNetNs && ReferenceEquals(ev.DecodedArgs, DecodedArgs) &&
            ReferenceEquals(ev.Context, Context);
    }

    /// <summary>
    /// One of the last keys made from its parts, and what the last lookup of it found (<see cref="Found"/> non-null) while
    /// <see cref="_byKey"/> was at <see cref="Version"/>: no second lookup of a long key while nothing kept changed.
    /// </summary>
    private struct Recent
    {
        public KeyParts? Parts;
        public string? Key;
        public long Version;
        public ulong Ts;
        public Explanation[]? Found;
    }

    private readonly Recent[] _recent = new Recent[4];
    private int _recentNext;

    /// <summary>Moves with every change of <see cref="_byKey"/>.</summary>
    private long _version;

    /// <summary>Explanations kept now.</summary>
    public int Count => _byKey.Count;

    /// <summary>Failures explained by reuse.</summary>
    public long Reused { get; private set; }

    /// <summary>The identity of <paramref name="ev"/>'s failure, or null when it must be explained afresh.</summary>
    public string? Key(SyscallEvent ev)
    {
        if (!ev.Failed || ev.Injected || ev.DeniedBy != null) return null;
        // Only a failure with nothing but these parts in its key (no evidence, origin or explanation yet) is compared so.
        bool plain = !ev.HasEvidence && ev.Origin is null && !ev.HasExplanation;
        if (plain)
            foreach (var r in _recent)
                if (r.Parts is { } parts && parts.Of(ev)) return r.Key;
        var sb = _sb.Clear();
        sb.Append(ev.Pid).Append('|').Append(ev.Nr).Append('|').Append(ev.Ret).Append('|').Append(ev.KernelRet)
          .Append('|').Append(ev.Uid).Append(',').Append(ev.Euid).Append(',').Append(ev.Gid).Append(',').Append(ev.Egid)
          .Append('|').Append(ev.ErrorAsData ? 'd' : '-').Append(ev.CaptureTruncated ? 't' : '-');
        if (ev.ConnectedTo is { } peer) sb.Append("|p:").Append(Convert.ToHexString(peer)).Append('@').Append(ev.ConnectedNetNs);
        foreach (var a in ev.DecodedArgs) { sb.Append('|'); AppendMasked(sb, a); }
        foreach (var e in ev.Evidence) sb.Append("|e:").Append(e.Kind).Append(':').Append(e.Text);
        if (ev.Origin is { } o) sb.Append("|o:").Append(o.Function).Append('+').Append(o.Offset);
        foreach (var x in ev.Explanation) sb.Append("|x:").Append(x.Rule).Append(':').Append(x.Text);
        if (ev.Context is { } c) AppendContext(sb, c);
        string key = sb.ToString();
        if (plain)
        {
            _recent[_recentNext] = new Recent
            {
                Parts = new KeyParts(ev.Pid, ev.Nr, ev.Ret, ev.KernelRet, ev.Uid, ev.Euid, ev.Gid, ev.Egid, ev.ErrorAsData,
                    ev.CaptureTruncated, ev.ConnectedTo, ev.ConnectedNetNs, ev.DecodedArgs, ev.Context),
                Key = key,
            };
            _recentNext = (_recentNext + 1) % _recent.Length;
        }
        return key;
    }

    /// <summary>Copies the explanation of an identical earlier failure into <paramref name="ev"/>, if there is one.</summary>
    /// <param name="expired">An identical failure was explained, but longer than <see cref="Window"/> ago.</param>
    public bool TryReuse(SyscallEvent ev, string key, out bool expired)
    {
        expired = false;
        int i = _recent.Length - 1;
        while (i >= 0 && !ReferenceEquals(_recent[i].Key, key)) i--;
        (ulong Ts, Explanation[] Found) hit;
        if (i >= 0 && _recent[i].Version == _version && _recent[i].Found is { } found)
            hit = (_recent[i].Ts, found);
        else
        {
            if (!_byKey.TryGetValue(key, out hit)) return false;
            if (i >= 0) (_recent[i].Version, _recent[i].Ts, _recent[i].Found) = (_version, hit.Ts, hit.Found);
        }
        if (ev.TimestampNs < hit.Ts || ev.TimestampNs - hit.Ts > Window)
        {
            _byKey.Remove(key);
            _version++;
            expired = true;
            return false;
        }
        ev.Explanation.AddRange(hit.Found);
        Reused++;
        return true;
    }

    /// <summary>Keeps the explanation <paramref name="ev"/> just got (everything it gained from <paramref name="before"/> on).</summary>
    public void Keep(SyscallEvent ev, string key, int before)
    {
        // Expired entries go once per window, not only at capacity: a service's live set stays the last second's
        // failures (keys are long: arguments and context), not the last Capacity ones.
        if (_byKey.Count >= Capacity || ev.TimestampNs > _sweptTs + Window)
        {
            _sweptTs = ev.TimestampNs;
            Evict(ev.TimestampNs);
        }
        _byKey[key] = (ev.TimestampNs, ev.Explanation.Skip(before).ToArray());
        _version++;
    }

    private ulong _sweptTs;

    private void Evict(ulong now)
    {
        var stale = _byKey.Where(kv => now < kv.Value.Ts || now - kv.Value.Ts > Window).Select(kv => kv.Key).ToList();
        if (_byKey.Count >= Capacity && stale.Count < Capacity / 2)
            stale.AddRange(_byKey.OrderBy(kv => kv.Value.Ts).Take(Capacity / 2).Select(kv => kv.Key));
        foreach (var k in stale) _byKey.Remove(k);
        _version++;
    }

    // Hexadecimal numbers of 5 digits or more are addresses (buffers, futex words, struct pointers): masked.
    private static void AppendMasked(StringBuilder sb, string arg)
    {
        for (int i = 0; i < arg.Length; i++)
        {
            if (arg[i] == '0' && i + 1 < arg.Length && arg[i + 1] == 'x' && (i == 0 || !char.IsLetterOrDigit(arg[i - 1])))
            {
                int j = i + 2;
                while (j < arg.Length && char.IsAsciiHexDigit(arg[j])) j++;
                if (j - (i + 2) >= 5) { sb.Append("0x*"); i = j - 1; continue; }
            }
            sb.Append(arg[i]);
        }
    }

    private static void AppendContext(StringBuilder sb, FailureContext c)
    {
        sb.Append("|c:").Append(c.Uid).Append(',').Append(c.Euid).Append(',').Append(c.Suid).Append(',').Append(c.Fsuid)
          .Append(',').Append(c.Gid).Append(',').Append(c.Egid).Append(',').Append(c.Sgid).Append(',').Append(c.Fsgid)
          .Append(',').Append(c.GroupCount);
        foreach (var g in c.Groups) sb.Append(',').Append(g);
        sb.Append('|').Append(c.CapEffective).Append(',').Append(c.CapPermitted).Append(',').Append(c.Securebits)
          .Append(',').Append(c.NoNewPrivs).Append(',').Append(c.SeccompMode).Append(',').Append(c.SeccompFilters)
          .Append(',').Append(c.Seccomp?.Serial ?? 0).Append(',').Append(c.Umask)
          .Append(',').Append(c.OpenFds).Append(',').Append(c.MaxFds)
          .Append(',').Append(c.SignalsIgnored).Append(',').Append(c.SignalsCaught).Append(',').Append(c.SignalsBlocked)
          .Append(",n:").Append(c.NetNs);
        foreach (var (name, (soft, hard)) in c.Limits) sb.Append("|l:").Append(name).Append('=').Append(soft).Append('/').Append(hard);
        AppendFile(sb, c.Cwd);
        AppendFile(sb, c.Root);
        foreach (var f in c.Files) AppendFile(sb, f);
        foreach (var f in c.Writers) AppendFile(sb, f);
        if (c.Exec is { } x) sb.Append("|x:").Append(x);
    }

    private static void AppendFile(StringBuilder sb, ContextFile? f)
    {
        if (f is null) { sb.Append("|f:-"); return; }
        sb.Append("|f:").Append(f.Fd).Append(',').Append(f.Arg).Append(',').Append((int)f.Flags).Append(',').Append(f.Mode)
          .Append(',').Append(f.OpenFlags).Append(',').Append(f.Dev).Append(',').Append(f.MountId).Append(',').Append(f.Inode).Append(',').Append(f.Position).Append(',').Append(f.FsType)
          .Append(',').Append(f.Path);
    }
}
