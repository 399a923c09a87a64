using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using Whyfail.Capture.Native;

namespace Whyfail.Capture;

/// <summary>
/// WHYFAIL_VERIFIER_STATS=1: asks the kernel's verifier for its statistics of each program loaded (log level 4:
/// instructions processed, states, verification time) and prints one line per program on standard error after the
/// load, with the load's wall and CPU time. A measuring aid for start-up (bench/README "Start-up"); off by default.
/// WHYFAIL_VERIFIER_LOG=DIR as well: the whole log of each program (level 2: every instruction the verifier walks,
/// with the source line) goes to DIR/NAME.log, for finding what multiplies the verifier's states (bench/README).
/// </summary>
internal sealed unsafe class VerifierStats : IDisposable
{
    private const nuint LogSize = 65536; // level 4 also logs a line per global function: 4 KiB ran out (ENOSPC)
    private const nuint FullLogSize = 256u << 20;
    private readonly string? _logDir = Environment.GetEnvironmentVariable("WHYFAIL_VERIFIER_LOG");
    private readonly List<(string Name, nint Buffer)> _programs = [];
    private readonly long _start = Stopwatch.GetTimestamp();
    private readonly TimeSpan _cpuStart = Process.GetCurrentProcess().TotalProcessorTime;

    public static VerifierStats? Request(nint obj)
    {
        if (Environment.GetEnvironmentVariable("WHYFAIL_VERIFIER_STATS") is not "1") return null;
        var stats = new VerifierStats();
        for (nint p = Libbpf.NextProgram(obj, 0); p != 0; p = Libbpf.NextProgram(obj, p))
        {
            if (!Libbpf.ProgramAutoload(p)) continue;
            nuint size = stats._logDir is null ? LogSize : FullLogSize;
            var buf = (nint)NativeMemory.AllocZeroed(size);
            Libbpf.ProgramSetLogBuf(p, (byte*)buf, size);
            Libbpf.ProgramSetLogLevel(p, stats._logDir is null ? 4u : 6u);
            stats._programs.Add((Marshal.PtrToStringUTF8(Libbpf.ProgramName(p)) ?? "?", buf));
        }
        return stats;
    }

    public void Print()
    {
        var err = Console.Error;
        long sum = 0;
        foreach (var (name, buf) in _programs)
        {
            string log = Marshal.PtrToStringUTF8(buf) ?? "";
            if (_logDir is not null)
            {
                // written as root into a directory someone named: the old file (or a symlink planted in its place) is
                // removed, and the new one made with O_CREAT|O_EXCL, which never follows a symlink
                var path = Path.Combine(_logDir, name + ".log");
                File.Delete(path);
                using var f = new FileStream(path, FileMode.CreateNew, FileAccess.Write);
                f.Write(MemoryMarshal.CreateReadOnlySpanFromNullTerminated((byte*)buf)); // the log is a string: up to its NUL
            }
            var lines = log.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            string processed = lines.FirstOrDefault(l => l.StartsWith("processed ", StringComparison.Ordinal)) ?? "no statistics";
            string time = lines.FirstOrDefault(l => l.StartsWith("verification time", StringComparison.Ordinal)) ?? "";
            if (time.Split(' ') is [_, _, var us, ..] && long.TryParse(us, out long u)) sum += u;
            err.WriteLine($"whyfail: verifier: {name}: {processed}{(time.Length > 0 ? "; " + time : "")}");
        }
        var cpu = Process.GetCurrentProcess().TotalProcessorTime - _cpuStart;
        err.WriteLine($"whyfail: verifier: {_programs.Count} programs, {sum / 1000.0:0.0} ms verifying; load {Stopwatch.GetElapsedTime(_start).TotalMilliseconds:0} ms wall, " +
            $"{cpu.TotalMilliseconds:0} ms CPU (whyfail)");
    }

    public void Dispose()
    {
        foreach (var (_, buf) in _programs) NativeMemory.Free((void*)buf);
        _programs.Clear();
    }
}
