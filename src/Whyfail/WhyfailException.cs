namespace Whyfail;

/// <summary>
/// A failure of whyfail itself (not of the traced command), with what to do about it and the exit code
/// it ends with. The root of whyfail's exceptions: the CLI's guard prints the message and exits with
/// <see cref="ExitCode"/>; any other exception is a bug, printed as "internal error" with exit 70.
/// </summary>
public class WhyfailException(string message, int exitCode = ExitCodes.Usage, string? detail = null, Exception? inner = null) : Exception(message, inner)
{
    public int ExitCode { get; } = exitCode;
    /// <summary>A longer block shown after the message (e.g. the verifier's reason).</summary>
    public string? Detail { get; } = detail;
}

/// <summary>whyfail's own exit codes; a traced command's status is passed through otherwise.</summary>
public static class ExitCodes
{
    public const int Usage = 2;            // bad command line: unknown option, syscall or errno name
    public const int NoPermission = 3;     // not root / missing CAP_BPF, CAP_PERFMON
    public const int KernelUnsupported = 4;// no BTF, BPF program refused, tracepoint missing
    public const int NoSuchProcess = 5;    // -p PID that does not exist
    public const int Output = 6;           // cannot write the -o file
    public const int Internal = 70;        // a bug in whyfail (EX_SOFTWARE)
    public const int CommandNotExecutable = 126;
    public const int CommandNotFound = 127;
}
