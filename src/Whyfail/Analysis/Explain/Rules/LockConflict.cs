using System.Globalization;
using Whyfail.Events;
using static Whyfail.Analysis.Explain.Words;
using static Whyfail.Capture.Native.Libc;

namespace Whyfail.Analysis.Explain.Rules;

/// <summary>
/// EAGAIN/EACCES from fcntl(F_SETLK/F_OFD_SETLK) or flock(LOCK_NB): the conflicting lock in /proc/locks on the
/// same file and range, and the process (and descriptor) holding it.
/// </summary>
public sealed class LockConflict : IExplainRule
{
    public string Id => "lock.conflict";


    public bool AppliesTo(SyscallEvent ev) =>
        (ev.Errno is Errnos.EAGAIN or Errnos.EACCES && ev.Syscall == "fcntl" && SyscallArgs.Int(ev, 1) is F_SETLK or F_OFD_SETLK)
        || (ev.Errno == Errnos.EAGAIN && ev.Syscall == "flock")
        || (ev.Errno == Errnos.EDEADLK && ev.Syscall == "fcntl" && SyscallArgs.Int(ev, 1) is F_SETLKW or F_OFD_SETLKW);

    /// <summary>One line of /proc/locks (or an fdinfo "lock:" line).</summary>
    internal sealed record Lock(string Class, bool Write, int Pid, uint Major, uint Minor, ulong Ino, long Start, long End, bool Waiting)
    {
        public string Key => $"{Class} {Write} {Pid} {Major}:{Minor}:{Ino} {Start} {End}";
        public string Range => End == long.MaxValue ? (Start == 0 ? "the whole file" : $"bytes {Start} to the end") : $"bytes {Start}–{End}";

        public static Lock? Parse(string line)
        {
            var f = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries).ToList();
            if (f.Count > 0 && f[0] == "lock:") f.RemoveAt(0);
            if (f.Count < 8) return null;
            bool waiting = f[1] == "->";
            if (waiting) f.RemoveAt(1);
            if (f.Count < 8) return null;
            var dev = f[5].Split(':');
            if (dev.Length != 3) return null;
            if (!int.TryParse(f[4], out var pid)) pid = -1;
            return new Lock(f[1], f[3] == "WRITE", pid,
                uint.Parse(dev[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture), uint.Parse(dev[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture),
                ulong.Parse(dev[2], CultureInfo.InvariantCulture), long.Parse(f[6], CultureInfo.InvariantCulture),
                f[7] == "EOF" ? long.MaxValue : long.Parse(f[7], CultureInfo.InvariantCulture), waiting);
        }
    }

    public IEnumerable<Explanation> Explain(SyscallEvent ev, ProcessView proc)
    {
        int fd = SyscallArgs.Int(ev, 0);
        var info = proc.Fd(fd);
        if (info is null || !proc.StatFd(fd, out var st)) { proc.Checked.Add($"descriptor {fd} (not open now)"); yield break; }
        var path = proc.FdTarget(info);
        var all = (ProcFs.Read("/proc/locks") ?? "").Split('\n').Select(Lock.Parse).OfType<Lock>()
            .Where(l => !l.Waiting && l.Ino == st.Ino && l.Major == st.DevMajor && l.Minor == st.DevMinor).ToList();
        // Locks held through this very descriptor never conflict with it.
        var own = info.Lines.Where(l => l.StartsWith("lock:", StringComparison.Ordinal)).Select(Lock.Parse).OfType<Lock>().Select(l => l.Key).ToHashSet();
        proc.Checked.Add($"/proc/locks for {Q(path)} ({Plural(all.Count, "lock", "locks")})");

        List<Lock> conflicts;
        string asked;
        if (ev.Syscall == "flock")
        {
            bool ex = (SyscallArgs.Int(ev, 1) & LOCK_EX) != 0;
            asked = ex ? "an exclusive flock() lock" : "a shared flock() lock";
            conflicts = all.Where(l => l.Class == "FLOCK" && (ex || l.Write) && !own.Contains(l.Key)).ToList();
        }
        else
        {
            var fl = ev.Capture(2)?.Data;
            if (fl is not { Length: >= 24 }) { proc.Checked.Add("the struct flock (not captured)"); yield break; }
            short type = BitConverter.ToInt16(fl, 0), whence = BitConverter.ToInt16(fl, 2);
            long start = BitConverter.ToInt64(fl, 8), len = BitConverter.ToInt64(fl, 16);
            long origin = whence switch { 1 => info.Pos, 2 => (long)st.Size, _ => 0 };
            long s = origin + start, e = len == 0 ? long.MaxValue : origin + start + len - 1;
            if (len < 0) (s, e) = (origin + start + len, origin + start - 1);
            bool write = type == 1;
            bool ofd = SyscallArgs.Int(ev, 1) is F_OFD_SETLK or F_OFD_SETLKW;
            asked = $"a {(write ? "write" : "read")} {(ofd ? "OFD" : "POSIX")} lock on {new Lock("", write, 0, 0, 0, 0, s, e, false).Range}";
            conflicts = all.Where(l => l.Class is "POSIX" or "OFDLCK" && (write || l.Write) && l.Start <= e && s <= l.End
                                       && !(l.Class == "POSIX" && !ofd && l.Pid == proc.Pid) && !own.Contains(l.Key)).ToList();
        }

        if (ev.Errno == Errnos.EDEADLK)
        {
            var holders = conflicts.Where(l => l.Pid > 0).Select(l => ProcFs.Who(l.Pid)).Distinct();
            yield return new Explanation(Id,
                $"waiting for {asked} on {Q(path)} would deadlock: it is held by {string.Join(", ", holders)}, which (directly or through others) waits for a lock pid {proc.Pid} holds",
                "take locks in a consistent order in all processes");
            yield break;
        }
        if (conflicts.Count == 0)
        {
            yield return new Explanation(Id, $"no lock conflicting with {asked} is held on {Q(path)} now; the holder probably released it after the call", null, false);
            yield break;
        }
        var who = conflicts.Select(l => Holder(l, st)).Distinct().Take(3).ToList();
        var first = conflicts[0];
        var kind = first.Class switch { "FLOCK" => "flock()", "OFDLCK" => "OFD", _ => "POSIX (fcntl)" };
        yield return new Explanation(Id,
            $"{Q(path)} is locked: a {(first.Write ? "write (exclusive)" : "read (shared)")} {kind} lock on {first.Range} is held by {string.Join("; ", who)}, which conflicts with {asked}",
            ev.Syscall == "flock" ? "wait for it (flock without LOCK_NB), or stop the holder" : "wait for it (F_SETLKW), or stop the holder");
    }

    // The holding pid from /proc/locks; for OFD locks (pid -1) and to name the descriptor, the fdinfo "lock:" lines.
    private static string Holder(Lock l, FileStat st)
    {
        var opener = ProcScan.OpenersOf(st).FirstOrDefault(u => u.Info?.Lines.Any(x => x.StartsWith("lock:", StringComparison.Ordinal) && Lock.Parse(x)?.Key == l.Key) == true);
        if (opener != null) return $"{ProcFs.Who(opener.Pid)} through descriptor {opener.Fd}";
        return l.Pid > 0 ? ProcFs.Who(l.Pid) : "an open file description whose process could not be found";
    }
}
