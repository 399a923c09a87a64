#pragma warning disable CA1416 // Linux only
using System.Security.Cryptography;
using System.Text;

namespace Whyfail.Analysis.Origin.Kernel;

/// <summary>
/// An on-disk cache of computed call graphs, one file per (kernel build id, syscall, options) under
/// /var/cache/whyfail/callgraph/. The directory is created 0700 and must be root-owned with no symlink
/// on its path; files are written atomically (a new temp file, fsync, rename over) and read only when
/// they are regular root-owned files whose header repeats the key. Typical use:
/// <code>
/// var names = new CallGraphCache().GetOrCompute(KernelBuildId.Current(), "openat", opts, () =>
/// {
///     using var graph = CallGraph.ForRunningKernel();
///     return graph.FunctionsFor("openat", opts);
/// }, warn: Console.Error.WriteLine);
/// </code>
/// </summary>
public sealed class CallGraphCache
{
    public const string DefaultDirectory = "/var/cache/whyfail/callgraph";
    private const string Magic = "# whyfail callgraph v1";

    /// <param name="owner">The uid the directory and files must belong to (root in production).</param>
    public CallGraphCache(string directory = DefaultDirectory, uint owner = 0)
    {
        Directory = directory;
        Owner = owner;
    }

    public string Directory { get; }
    public uint Owner { get; }

    /// <summary>The cache file of one key.</summary>
    public string PathFor(string buildId, string syscall, CallGraphOptions opts)
    {
        string hash = Convert.ToHexStringLower(Sha256.Hash(Encoding.UTF8.GetBytes(opts.CacheKey())))[..16]; // SHA-256 without OpenSSL
        return Path.Combine(Directory, $"{Clean(buildId)}-{Clean(syscall)}-{hash}.list");
    }

    public bool TryGet(string buildId, string syscall, CallGraphOptions opts, out IReadOnlyList<string> functions)
    {
        functions = [];
        string path = PathFor(buildId, syscall, opts);
        try
        {
            if (SafeDirectory.EnsurePrivateNoCreate(Directory, Owner) != null) return false;
            var st = SafeDirectory.LStat(path);
            if (st == null || !SafeDirectory.IsRegular(st.Value.Mode) || st.Value.Uid != Owner) return false;
            var lines = File.ReadAllLines(path);
            string[] header = Header(buildId, syscall, opts);
            if (lines.Length < header.Length || !lines.AsSpan(0, header.Length).SequenceEqual(header)) return false;
            functions = lines.Skip(header.Length).Where(l => l.Length > 0).ToArray();
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Writes the list; throws <see cref="KernelAnalysisException"/> when the directory is unsafe or unwritable.</summary>
    public void Store(string buildId, string syscall, CallGraphOptions opts, IReadOnlyList<string> functions)
    {
        string? unsafeWhy = SafeDirectory.EnsurePrivate(Directory, Owner);
        if (unsafeWhy != null) throw new KernelAnalysisException($"call graph cache not written: {unsafeWhy}");
        string path = PathFor(buildId, syscall, opts);
        string temp = Path.Combine(Directory, $".{Path.GetFileName(path)}.{Environment.ProcessId}.{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6))}.tmp");
        try
        {
            var options = new FileStreamOptions
            {
                Mode = FileMode.CreateNew, // O_CREAT|O_EXCL: never follows a planted symlink
                Access = FileAccess.Write,
                Share = FileShare.None,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            };
            using (var stream = new FileStream(temp, options))
            {
                var text = new StringBuilder();
                foreach (var h in Header(buildId, syscall, opts)) text.Append(h).Append('\n');
                foreach (var f in functions) text.Append(f).Append('\n');
                stream.Write(Encoding.UTF8.GetBytes(text.ToString()));
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true); // rename(2): atomic, replaces (never follows) what is there
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            try { File.Delete(temp); } catch (Exception) { /* best effort */ }
            throw new KernelAnalysisException($"call graph cache not written: {path}: {e.Message}", e);
        }
    }

    /// <summary>The cached list, or <paramref name="compute"/>'s (then stored; a cache that cannot be written is reported to <paramref name="warn"/>).</summary>
    public IReadOnlyList<string> GetOrCompute(string buildId, string syscall, CallGraphOptions opts,
        Func<IReadOnlyList<string>> compute, Action<string>? warn = null)
    {
        if (TryGet(buildId, syscall, opts, out var cached)) return cached;
        var functions = compute();
        try
        {
            Store(buildId, syscall, opts, functions);
        }
        catch (KernelAnalysisException e)
        {
            warn?.Invoke(e.Message);
        }
        return functions;
    }

    private static string[] Header(string buildId, string syscall, CallGraphOptions opts) =>
        [Magic, $"# kernel {buildId}", $"# syscall {syscall}", $"# options {opts.CacheKey()}"];

    private static string Clean(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (char c in s) sb.Append(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '+' ? c : '_');
        return sb.Length == 0 ? "_" : sb.ToString();
    }
}
