using System.Globalization;
using Whyfail.Capture.Native;

namespace Whyfail.Capture;

/// <summary>
/// BTF ids of named kernel types, remembered for the running boot in a root-only directory under /run, so that a
/// question needing one id (does this kernel allow fexit? see <see cref="Origin.OriginBackends.ProbeFexit"/>; has it
/// kprobe.multi, or a tracepoint? which id does a tp_btf program attach to? see <see cref="BtfAttachTargets"/>) does not
/// parse the kernel's whole BTF on every start: ~5 MB, tens of ms of CPU. Absent names are remembered too (as 0). The vmlinux BTF cannot change while the kernel runs, and /run is emptied at boot; the file
/// name carries the boot id as well, for systems where /run outlives a boot.
/// </summary>
internal static class BtfIdCache
{
    public const string Directory = "/run/whyfail/btf";

    /// <summary>The BTF id of a FUNC of the running kernel, or a value ≤ 0 when it has none.</summary>
    public static int FunctionId(string name) => Id(name, Libbpf.BTF_KIND_FUNC);

    /// <summary>The BTF id of a type of this kind and name in the running kernel, or a value ≤ 0 when it has none.</summary>
    public static int Id(string name, uint kind)
    {
        string key = $"{kind.ToString(CultureInfo.InvariantCulture)}:{name}";
        string? file = FileName();
        if (file != null && Read(file, key) is int cached) return cached;
        nint btf = KernelChecks.VmlinuxBtf();
        if (btf == 0) return -1; // no BTF: nothing to remember
        int id = Libbpf.BtfFindByNameKind(btf, name, kind);
        if (file != null) Write(file, key, Math.Max(id, 0));
        return id;
    }

    /// <summary>
    /// The BTF ids of many FUNCs at once (the fexit backend's functions, one program each): the file read once, the
    /// kernel's BTF parsed only for names it lacks, the file written once. Values ≤ 0: the kernel has no such function.
    /// The names it lacks are looked up in <see cref="Analysis.Origin.Kernel.BtfTypeTable.Running"/>, the parse deep mode's
    /// origin resolver makes anyway (on its own thread, from "origins planned"), by a name index: libbpf's parse of the
    /// same BTF and its search of every type per name took 1.3-2.8 s of the lab's emulated CPU at a boot's first fexit
    /// run (bench/README "Deep-mode first call before the release, session 16").
    /// </summary>
    public static Dictionary<string, int> FunctionIds(IEnumerable<string> names)
    {
        string prefix = $"{Libbpf.BTF_KIND_FUNC.ToString(CultureInfo.InvariantCulture)}:";
        string? file = FileName();
        var known = file != null ? ReadAll(file) : [];
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        var found = new List<(string, int)>();
        foreach (var name in names)
        {
            if (ids.ContainsKey(name)) continue;
            if (known.TryGetValue(prefix + name, out int id)) { ids[name] = id; continue; }
            if (RunningBtf() is not { } btf) { ids[name] = -1; continue; }
            ids[name] = id = btf.FirstFunctionNamed(name);
            found.Add((prefix + name, Math.Max(id, 0)));
        }
        if (file != null && found.Count > 0) Write(file, found);
        return ids;
    }

    private static Analysis.Origin.Kernel.BtfTypeTable? RunningBtf()
    {
        try
        {
            return File.Exists(KernelChecks.BtfPath) ? Analysis.Origin.Kernel.BtfTypeTable.Running : null;
        }
        catch (Analysis.Origin.Kernel.KernelAnalysisException)
        {
            return null; // no BTF: nothing to remember
        }
    }

    /// <summary>
    /// The number of arguments of a BTF tracepoint (its btf_trace_NAME prototype, without the hidden first one),
    /// or a value ≤ 0 when the kernel has none; remembered like the ids.
    /// </summary>
    public static int TracepointArity(string name)
    {
        string key = $"arity:{name}";
        string? file = FileName();
        if (file != null && Read(file, key) is int cached) return cached;
        nint btf = KernelChecks.VmlinuxBtf();
        if (btf == 0) return -1;
        int arity = Libbpf.TracepointArity(btf, name);
        if (file != null) Write(file, key, Math.Max(arity, 0));
        return arity;
    }

    /// <summary>
    /// A fact about this boot other than a BTF id (e.g. "the kernel allows fexit", <see cref="Origin.OriginBackends.ProbeFexit"/>),
    /// remembered in the same file under a key of its own; null when not remembered or the file is not to be trusted.
    /// </summary>
    public static int? Fact(string key) => FileName() is { } file ? Read(file, key) : null;

    /// <summary>Remembers a fact for this boot (see <see cref="Fact"/>); nothing when the cache cannot be used.</summary>
    public static void RememberFact(string key, int value)
    {
        if (FileName() is { } file) Write(file, key, value);
    }

    /// <summary>This boot's file; null when whyfail is not root or the directory is not safe to trust.</summary>
    internal static string? FileName()
    {
        if (Libc.GetEuid() != 0) return null;
        try
        {
            // Read once per process (it cannot change while the kernel runs): this is asked ~15 times per start, and each
            // read of the /proc file (size 0, so read through a StreamReader's buffers) was 3-4 fresh heap pages.
            string boot = _bootId ??= File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim();
            if (boot.Length == 0 || boot.Any(c => !(char.IsAsciiHexDigit(c) || c == '-'))) return null;
            return SafeDirectory.EnsurePrivate(Directory, 0) == null ? Path.Combine(Directory, boot) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static string? _bootId;

    /// <summary>Every entry of a trusted file (none otherwise).</summary>
    private static Dictionary<string, int> ReadAll(string file)
    {
        var all = new Dictionary<string, int>(StringComparer.Ordinal);
        try
        {
            if (!Trusted(file)) return all;
            foreach (var line in File.ReadLines(file))
            {
                var parts = line.Split(' ');
                if (parts.Length == 2 && int.TryParse(parts[1], CultureInfo.InvariantCulture, out int id) && id >= 0)
                    all[parts[0]] = id;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
        return all;
    }

    private static int? Read(string file, string name)
    {
        try
        {
            if (!Trusted(file)) return null;
            // The file's bytes (a few hundred) looked through without a string per line: File.ReadLines' StreamReader buffers
            // were ~3 fresh heap pages per question, and a start asks ~10 (bench/README "Start-up, session 15").
            return Find(File.ReadAllBytes(file), System.Text.Encoding.UTF8.GetBytes(name));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
        return null;
    }

    /// <summary>
    /// The value of the line "NAME VALUE" (one space, VALUE a non-negative integer) in the file's bytes, lines ending at
    /// '\n' or '\r' (as File.ReadLines reads them); null when there is no such line.
    /// </summary>
    internal static int? Find(ReadOnlySpan<byte> data, ReadOnlySpan<byte> name)
    {
        foreach (var line in new ByteLines(data, comments: false))
        {
            int space = line.IndexOf((byte)' ');
            if (space < 0 || line[(space + 1)..].Contains((byte)' ') || !line[..space].SequenceEqual(name)) continue;
            if (int.TryParse(line[(space + 1)..], System.Globalization.NumberStyles.Integer, CultureInfo.InvariantCulture, out int id) && id >= 0)
                return id;
        }
        return null;
    }

    /// <summary>A regular file (not a symlink) owned by root: the only kind read.</summary>
    private static bool Trusted(string file) => SafeDirectory.LStat(file) is { } st && SafeDirectory.IsRegular(st.Mode) && st.Uid == 0;

    private static void Write(string file, string name, int id) => Write(file, [(name, id)]);

    private static readonly Lock Writing = new(); // threads of one process share the temporary file's name

    private static void Write(string file, IReadOnlyList<(string Name, int Id)> entries)
    {
        try
        {
            lock (Writing)
            {
                // Replaced whole (write then rename), so a reader never sees half a line. What an untrusted file holds (a
                // symlink's target, another owner's file) is not carried over into the trusted one: it is started afresh.
                var names = entries.Select(e => e.Name + " ").ToList();
                var lines = Trusted(file) ? File.ReadAllLines(file).Where(l => !names.Any(n => l.StartsWith(n, StringComparison.Ordinal))).ToList() : [];
                lines.AddRange(entries.Select(e => $"{e.Name} {e.Id.ToString(CultureInfo.InvariantCulture)}"));
                string tmp = $"{file}.{Environment.ProcessId}";
                File.WriteAllLines(tmp, lines);
                File.Move(tmp, file, overwrite: true);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }
}
