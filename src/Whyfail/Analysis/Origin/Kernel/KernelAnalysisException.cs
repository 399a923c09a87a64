namespace Whyfail.Analysis.Origin.Kernel;

/// <summary>
/// The running kernel cannot be analysed the way it was asked (its text, symbols, BTF or
/// tracing lists are missing or unreadable). The message says what is missing and why; one that reaches
/// the CLI ends whyfail with exit 4 (the kernel lacks a feature).
/// </summary>
public sealed class KernelAnalysisException(string message, Exception? inner = null)
    : WhyfailException(message, ExitCodes.KernelUnsupported, null, inner);
