using System.Runtime.InteropServices;
using System.Text;
using Whyfail.Capture;
using Whyfail.Capture.Native;
using static Whyfail.Capture.Native.Libc;

namespace Whyfail.Graph;


/// <summary>
/// The function_graph tracer, set up for whyfail alone and torn down on every exit path.
///
/// Preferred: a private tracefs instance (instances/whyfail-PID) filtered to the traced pids
/// (set_ftrace_pid, following children with function-fork). Instances have no set_graph_function,
/// so everything the traced threads do in the kernel is recorded and the syscall's subtrees are cut
/// out while reading. Kernels whose instances cannot run function_graph (before Linux 6.9; Debian's
/// 6.1) get the top-level tracer instead, only when nobody uses it (current_tracer is nop), with
/// set_graph_function on the syscall entries; every setting changed there is restored at the end,
/// and the private instance is still created as the claim: a later whyfail that finds it left by a
/// dead process resets the top-level tracer too.
/// </summary>
public sealed class FunctionGraphRecorder : IDisposable
{
    private static string Tracing => Tracefs.Root;
    private const string InstancePrefix = "whyfail-";
    private const string TopLevelClaim = "whyfail: owns the top-level function_graph tracer";

    private readonly string _instance;
    private readonly string _dir = "";      // where the tracer runs: the instance or the top level
    private readonly Dictionary<string, string> _restore = [];
    private readonly FunctionGraphParser _parser;
    private Thread? _reader;
    private volatile bool _stopReading;
    private int _pipeFd = -1;
    private bool _disposed;
    private Exception? _readError;

    /// <summary>True when the tracer runs in whyfail's private instance; false on the top level.</summary>
    public bool Private { get; }
    /// <summary>One line saying where and how the tracer runs.</summary>
    public string Description { get; }
    public long LostEvents => _parser.LostEvents;
    public long Unparsed => _parser.Unparsed;
    /// <summary>Stale instances of dead whyfail processes removed at start.</summary>
    public IReadOnlyList<string> RemovedStale { get; }

    /// <summary>Why function_graph cannot work here (null when it can), with what would enable it.</summary>
    public static string? Unavailable()
    {
        if (!File.Exists(Path.Combine(Tracing, "available_tracers")))
            return $"tracefs is not mounted at {Tracing} ({Tracefs.MountHint})";
        var tracers = Read(Path.Combine(Tracing, "available_tracers")).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (tracers.Contains("function_graph")) return null;
        string? lockdown = SecurityFs.LockdownMode();
        return $"this kernel has no function_graph tracer (available_tracers: {string.Join(' ', tracers)}). " +
            "whyfail graph records the kernel's call tree with it; it needs a kernel built with CONFIG_FUNCTION_GRAPH_TRACER=y " +
            "(Debian, Ubuntu, Fedora and RHEL kernels are)" +
            (lockdown is "confidentiality" ? " and not booted with lockdown=confidentiality (this one is), which hides the function tracers" : "");
    }

    /// <param name="entries">Entry function → (syscall, number): the roots of the trees to keep.</param>
    public FunctionGraphRecorder(IReadOnlyDictionary<string, (string Syscall, int Nr)> entries, Action<Invocation> completed, int bufferKbPerCpu)
    {
        if (Unavailable() is { } why)
            throw new WhyfailException($"cannot record call graphs: {why}", ExitCodes.KernelUnsupported);
        _parser = new FunctionGraphParser(entries, completed);
        RemovedStale = RemoveStale();
        _instance = Path.Combine(Tracing, "instances", InstancePrefix + Environment.ProcessId);
        try
        {
            Directory.CreateDirectory(_instance);
            Write(Path.Combine(_instance, "tracing_on"), "0");
            if (TryWrite(Path.Combine(_instance, "current_tracer"), "function_graph"))
            {
                Private = true;
                _dir = _instance;
                TryWrite(Path.Combine(_dir, "buffer_size_kb"), bufferKbPerCpu.ToString());
                Description = $"function_graph in the private tracefs instance {_instance}, filtered to the traced processes";
            }
            else
            {
                string current = Read(Path.Combine(Tracing, "current_tracer")).Trim();
                if (current != "nop")
                    throw new WhyfailException(
                        $"cannot record call graphs: this kernel's tracefs instances cannot run function_graph (Linux 6.9 added that), " +
                        $"and the top-level tracer is in use by '{current}' (another tool is tracing): stop it, or run on a newer kernel", ExitCodes.KernelUnsupported);
                // The claim lives in the instance's own buffer (written while it records, as markers need).
                Write(Path.Combine(_instance, "tracing_on"), "1");
                Write(Path.Combine(_instance, "trace_marker"), TopLevelClaim);
                Write(Path.Combine(_instance, "tracing_on"), "0");
                _dir = Tracing;
                Private = false;
                Save("tracing_on", "current_tracer", "buffer_size_kb", "set_graph_function", "set_ftrace_pid", "trace_clock",
                    "options/funcgraph-abstime", "options/funcgraph-proc", "options/funcgraph-tail", "options/funcgraph-irqs",
                    "options/funcgraph-duration", "options/function-fork");
                Write(Path.Combine(_dir, "tracing_on"), "0");
                Write(Path.Combine(_dir, "current_tracer"), "function_graph");
                Write(Path.Combine(_dir, "set_graph_function"), string.Join(' ', entries.Keys));
                TryWrite(Path.Combine(_dir, "buffer_size_kb"), bufferKbPerCpu.ToString());
                Description = "function_graph on the top-level tracer (this kernel's instances cannot run it), limited to the syscall entries and the traced processes; restored at exit";
            }
            foreach (var (opt, v) in new[] { ("funcgraph-abstime", "1"), ("funcgraph-proc", "1"), ("funcgraph-tail", "1"), ("funcgraph-irqs", "0"), ("funcgraph-duration", "1"), ("function-fork", "1") })
                TryWrite(Path.Combine(_dir, "options", opt), v);
            // The same clock as bpf_ktime_get_ns (whyfail's sys_exit timestamps), to pair trees with calls.
            Write(Path.Combine(_dir, "trace_clock"), "mono");
            Write(Path.Combine(_dir, "trace"), "");
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Starts recording the given thread groups (their children follow through function-fork).</summary>
    public void Start(IEnumerable<int> pids)
    {
        var list = string.Join(' ', pids);
        Write(Path.Combine(_dir, "set_ftrace_pid"), list);
        TryWrite(Path.Combine(_dir, "set_event_pid"), list);
        _pipeFd = Libc.Open(Path.Combine(_dir, "trace_pipe"), Libc.O_NONBLOCK | Libc.O_CLOEXEC, 0);
        if (_pipeFd < 0)
            throw new WhyfailException($"cannot read {_dir}/trace_pipe: {Libc.ErrorText(Marshal.GetLastPInvokeError())}", ExitCodes.Internal);
        _reader = new Thread(() =>
        {
            try { ReadLoop(); }
            catch (Exception e) { _readError = e; }
        }) { IsBackground = true, Name = "function_graph reader" };
        _reader.Start();
        Write(Path.Combine(_dir, "tracing_on"), "1");
    }

    /// <summary>Stops tracing and delivers everything still buffered.</summary>
    public void Stop()
    {
        if (_reader == null) return;
        TryWrite(Path.Combine(_dir, "tracing_on"), "0");
        _stopReading = true;
        _reader.Join();
        _reader = null;
        _parser.Finish();
        if (_readError is { } e)
            throw new WhyfailException($"reading the function_graph trace failed: {e.Message}", ExitCodes.Internal, e.ToString());
    }

    private unsafe void ReadLoop()
    {
        var buf = new byte[1 << 16];
        // WHYFAIL_GRAPH_RAW=FILE keeps a copy of the raw function_graph text (for bug reports; never follows a symlink).
        using var raw = Environment.GetEnvironmentVariable("WHYFAIL_GRAPH_RAW") is { Length: > 0 } rawPath ? Whyfail.Tracing.OutputFile.Open(rawPath) : null;
        var pending = new StringBuilder();
        int idleAfterStop = 0;
        while (true)
        {
            nint n;
            fixed (byte* p = buf) n = Libc.Read(_pipeFd, p, (nuint)buf.Length);
            if (n > 0)
            {
                raw?.Write(buf, 0, (int)n);
                pending.Append(Encoding.UTF8.GetString(buf, 0, (int)n));
                int nl;
                while ((nl = IndexOf(pending, '\n')) >= 0)
                {
                    _parser.Line(pending.ToString(0, nl));
                    pending.Remove(0, nl + 1);
                }
                idleAfterStop = 0;
                continue;
            }
            // Empty (EAGAIN): after a stop, two empty reads in a row mean everything was read.
            if (_stopReading && ++idleAfterStop >= 2) break;
            Thread.Sleep(_stopReading ? 20 : 50);
        }
        if (pending.Length > 0) _parser.Line(pending.ToString());
    }

    private static int IndexOf(StringBuilder sb, char c)
    {
        for (int i = 0; i < sb.Length; i++) if (sb[i] == c) return i;
        return -1;
    }

    /// <summary>Removes instances left by whyfail processes that no longer exist (and their top-level claim).</summary>
    private static List<string> RemoveStale()
    {
        var removed = new List<string>();
        var dir = Path.Combine(Tracing, "instances");
        if (!Directory.Exists(dir)) return removed;
        foreach (var inst in Directory.GetDirectories(dir, InstancePrefix + "*"))
        {
            var name = Path.GetFileName(inst);
            if (!int.TryParse(name.AsSpan(InstancePrefix.Length), out int pid) || Directory.Exists($"/proc/{pid}")) continue;
            bool claimedTop = TryRead(Path.Combine(inst, "trace"))?.Contains(TopLevelClaim) == true;
            TryWrite(Path.Combine(inst, "tracing_on"), "0");
            TryWrite(Path.Combine(inst, "current_tracer"), "nop");
            if (claimedTop && Read(Path.Combine(Tracing, "current_tracer")).Trim() == "function_graph")
            {
                TryWrite(Path.Combine(Tracing, "current_tracer"), "nop");
                TryWrite(Path.Combine(Tracing, "set_graph_function"), "");
                TryWrite(Path.Combine(Tracing, "set_ftrace_pid"), "");
            }
            try
            {
                Directory.Delete(inst);
                removed.Add(name);
            }
            catch (IOException) { }
        }
        return removed;
    }

    private void Save(params string[] files)
    {
        foreach (var f in files)
            if (TryRead(Path.Combine(_dir, f)) is { } v)
                _restore[f] = v;
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        try { Stop(); } catch (Exception) { /* teardown continues */ }
        if (_pipeFd >= 0) Libc.Close(_pipeFd);
        _pipeFd = -1;
        if (_dir.Length == 0 || Private)
        {
            TryWrite(Path.Combine(_instance, "tracing_on"), "0");
            TryWrite(Path.Combine(_instance, "current_tracer"), "nop");
        }
        else
        {
            TryWrite(Path.Combine(Tracing, "tracing_on"), "0");
            TryWrite(Path.Combine(Tracing, "current_tracer"), "nop");
            foreach (var (f, v) in _restore)
                TryWrite(Path.Combine(Tracing, f), RestoreValue(f, v));
        }
        if (_instance != null && Directory.Exists(_instance))
        {
            try { Directory.Delete(_instance); } catch (IOException) { }
        }
    }

    /// <summary>What to write back to restore a tracefs file from what reading it showed.</summary>
    private static string RestoreValue(string file, string shown)
    {
        shown = shown.Trim();
        if (file == "trace_clock")
        {
            int a = shown.IndexOf('['), b = shown.IndexOf(']');
            return a >= 0 && b > a ? shown[(a + 1)..b] : "local";
        }
        // Filters read back as one entry a line, or a comment when empty ("#### all functions enabled ####", "no pid").
        if (shown.StartsWith('#') || shown == "no pid") return "";
        return string.Join(' ', shown.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }

    private static string Read(string path) => File.ReadAllText(path);

    private static string? TryRead(string path)
    {
        try { return File.ReadAllText(path); }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    private static void Write(string path, string value)
    {
        // O_TRUNC replaces a filter (set_ftrace_pid, set_graph_function) or clears a buffer (trace).
        int fd = Libc.Open(path, Libc.O_WRONLY | O_TRUNC | Libc.O_CLOEXEC, 0);
        if (fd < 0)
            throw new WhyfailException($"cannot set up function_graph: opening {path} failed: {Libc.ErrorText(Marshal.GetLastPInvokeError())}", ExitCodes.KernelUnsupported);
        try
        {
            using var f = new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(fd, ownsHandle: true), FileAccess.Write, 0);
            f.Write(Encoding.ASCII.GetBytes(value + "\n"));
        }
        catch (IOException e)
        {
            throw new WhyfailException($"cannot set up function_graph: writing '{value}' to {path} failed: {e.Message}", ExitCodes.KernelUnsupported);
        }
    }


    private static bool TryWrite(string path, string value)
    {
        try
        {
            Write(path, value);
            return true;
        }
        catch (WhyfailException) { return false; }
    }
}
