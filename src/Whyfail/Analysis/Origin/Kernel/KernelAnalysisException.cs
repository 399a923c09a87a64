namespace Whyfail.Analysis.Origin.Kernel;

/// <summary>
/// The running kernel cannot be analysed the way it was asked (its text, symbols, BTF or
/// tracing lists are missing or unreadable). The message says what is missing and why; one that reaches
/// the CLI ends whyfail with exit 4 (the kernel lacks a feature).
/// </summary>
public class KernelAnalysisException(string message, Exception? inner = null)
    : WhyfailException(message, ExitCodes.KernelUnsupported, null, inner);

/// <summary>
/// One syscall has no entry function in this kernel (newer than the kernel, removed, or configured out): that
/// syscall is left out of a plan, the others stay.
/// </summary>
public sealed class MissingEntryException(string syscall, string message) : KernelAnalysisException(message)
{
    public string Syscall { get; } = syscall;
}
