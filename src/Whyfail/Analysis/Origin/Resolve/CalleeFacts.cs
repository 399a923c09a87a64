namespace Whyfail.Analysis.Origin.Resolve;

/// <summary>
/// What one kernel function's machine code shows about the calls it makes, for one errno: its direct
/// callees (static-call trampolines and call-depth padding resolved), how many indirect calls it makes
/// (function pointers: CALL/JMP through a register or memory, or a retpoline thunk), and whether it holds an
/// instruction that produces −errno itself.
/// </summary>
public sealed record CalleeFacts(IReadOnlyList<string> Direct, int Indirect, bool MakesErrno);

/// <summary>Source of <see cref="CalleeFacts"/> (the running kernel's text, or a table in tests).</summary>
public interface ICalleeFacts
{
    /// <summary>The facts of <paramref name="function"/> for <paramref name="errno"/> (positive), or null when its code cannot be read.</summary>
    CalleeFacts? Of(string function, int errno);
}
