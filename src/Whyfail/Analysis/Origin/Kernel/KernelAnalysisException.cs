namespace Whyfail.Analysis.Origin.Kernel;

/// <summary>
/// The running kernel cannot be analysed the way it was asked (its text, symbols, BTF or
/// tracing lists are missing or unreadable). The message says what is missing and why.
/// </summary>
public sealed class KernelAnalysisException(string message, Exception? inner = null) : Exception(message, inner);
