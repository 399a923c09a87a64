using System.Text.RegularExpressions;
using Whyfail.Analysis.Explain;
using Whyfail.Decoding;
using Whyfail.Events;

namespace Whyfail.Analysis.Verdict;

/// <summary>
/// What a call was about, as the verdict compares calls and messages: its path (the first one it
/// names), that path's final name and the place it was looked up in (a directory, or a directory
/// descriptor for a relative path), or the network address it used.
/// </summary>
public sealed partial record FailureSubject(string? Path, string? Name, string? Place, string? Address, string? Port)
{
    public static readonly FailureSubject None = new(null, null, null, null, null);

    public static FailureSubject Of(SyscallEvent ev)
    {
        // A repeat of the last call (the capture and decoding share its parts: equal by reference) has its subject.
        if (t_last is { } last && last.Syscall == ev.Syscall && ReferenceEquals(last.Args, ev.Args) &&
            ReferenceEquals(last.Captured, ev.Captured) && ReferenceEquals(last.Decoded, ev.DecodedArgs))
            return last.Subject;
        var subject = Find(ev);
        t_last = (ev.Syscall, ev.Args, ev.Captured, ev.DecodedArgs, subject);
        return subject;
    }

    /// <summary>The last call's parts that decide its subject (on this thread), and that subject.</summary>
    [ThreadStatic] private static (string Syscall, ulong[] Args, IReadOnlyList<CapturedArg> Captured, IReadOnlyList<string> Decoded, FailureSubject Subject)? t_last;

    private static FailureSubject Find(SyscallEvent ev)
    {
        var paths = SyscallArgs.Paths(ev);
        if (paths.Count > 0 && paths[0].Path.Length > 0)
        {
            var pa = paths[0];
            string path = pa.Path;
            string trimmed = path.Length > 1 ? path.TrimEnd('/') : path;
            int slash = trimmed.LastIndexOf('/');
            string name = slash >= 0 ? trimmed[(slash + 1)..] : trimmed;
            string place = slash > 0 ? trimmed[..slash] : slash == 0 ? "/" :
                pa.Dirfd is { } fd && fd != ProcessView.AT_FDCWD ? $"fd {fd}" : ".";
            if (!path.StartsWith('/') && slash > 0 && pa.Dirfd is { } dfd && dfd != ProcessView.AT_FDCWD) place = $"fd {dfd}/{place}";
            return new FailureSubject(path, name.Length > 0 ? name : null, place, null, null);
        }
        foreach (var a in ev.DecodedArgs)
            if (OfAddressText(a) is { } s) return s;
        return None;
    }

    /// <summary>
    /// The subject of an error a socket delivered as data (getsockopt SO_ERROR): the address its connect() named
    /// (<see cref="SyscallEvent.ConnectedTo"/>), as that connect's own subject has it (the same decoding of the struct
    /// sockaddr); null when none is known.
    /// </summary>
    public static FailureSubject? OfPeer(SyscallEvent ev) =>
        ev.ConnectedTo is { Length: >= 2 } sa ? OfAddressText(Sockaddr.Format(sa)) : null;

    /// <summary>A decoded socket address ({sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("127.0.0.1")}, …) as a subject, or null.</summary>
    private static FailureSubject? OfAddressText(string a)
    {
        var m = AddressPattern().Match(a);
        if (m.Success)
            return new FailureSubject(null, null, null, m.Groups["addr"].Value, PortPattern().Match(a) is { Success: true } p ? p.Groups[1].Value : null);
        var u = UnixPattern().Match(a);
        return u.Success ? new FailureSubject(u.Groups[1].Value, null, null, u.Groups[1].Value, null) : null;
    }

    /// <summary>True when <paramref name="other"/> lies under this subject's directory (the same directory or below).</summary>
    public bool SharesPlaceWith(FailureSubject other) =>
        Place is { } p && other.Path is { } q && Path != q && p.StartsWith('/') && p != "/" && q.StartsWith(p + "/", StringComparison.Ordinal);

    [GeneratedRegex(@"inet_addr\(""(?<addr>[^""]+)""\)|inet_pton\(AF_INET6, ""(?<addr>[^""]+)""")]
    private static partial Regex AddressPattern();

    [GeneratedRegex(@"_port=htons\((\d+)\)")]
    private static partial Regex PortPattern();

    [GeneratedRegex(@"sun_path=@?""([^""]+)""")]
    private static partial Regex UnixPattern();
}
