using Whyfail.Analysis.Origin.Kernel;

namespace Whyfail.Analysis.Origin.Resolve;

/// <summary><see cref="IReturnKinds"/> from the running kernel's BTF, loaded on first use (null BTF: nothing is known).</summary>
public sealed class BtfReturnKinds(Func<BtfReturnTypes?> load) : IReturnKinds
{
    private readonly Lazy<BtfReturnTypes?> _types = new(load);

    public static BtfReturnKinds ForRunningKernel() => new(() =>
    {
        try
        {
            return File.Exists(BtfReturnTypes.DefaultPath) ? BtfReturnTypes.Load() : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or KernelAnalysisException)
        {
            return null;
        }
    });

    /// <summary>Loads the kernel's BTF now (on the caller's thread) rather than at the first question.</summary>
    public void Warm() => _ = _types.Value;

    public bool CannotCarryErrno(string function) =>
        Info(function) is { } f && f.ReturnKind is BtfReturnKind.Bool or BtfReturnKind.Void or BtfReturnKind.NarrowInteger;

    public bool CanCarryErrno(string function) => Info(function)?.CanCarryErrno == true;

    public string? ReturnType(string function) => Info(function)?.ReturnType;

    private BtfFunctionInfo? Info(string function) =>
        _types.Value is { } t && t.TryGet(function, out var f) ? f : null;
}
