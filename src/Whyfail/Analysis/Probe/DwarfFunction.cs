namespace Whyfail.Analysis.Probe;

/// <summary>One entry of a variable's location: the DWARF expression valid for link addresses [Low, High).</summary>
/// <param name="Expression">In llvm-dwarfdump's spelling ("DW_OP_reg0 RAX", "DW_OP_fbreg -40", "DW_OP_breg4 RSI+8, DW_OP_stack_value").</param>
public sealed record DwarfLocation(ulong Low, ulong High, string Expression)
{
    public bool Covers(ulong address) => address >= Low && address < High;
}

/// <summary>A parameter or local variable of a function, as the DWARF describes it.</summary>
/// <param name="Size">Bytes of its type (typedefs followed); null for structs, unions and arrays.</param>
/// <param name="Scope">The enclosing lexical block's address ranges; empty for the function's own parameters and variables.</param>
public sealed record DwarfVariable(string Name, int? Size, bool IsParameter, IReadOnlyList<DwarfLocation> Locations,
    IReadOnlyList<(ulong Low, ulong High)> Scope)
{
    public bool InScope(ulong address) => Scope.Count == 0 || Scope.Any(r => address >= r.Low && address < r.High);

    public DwarfLocation? At(ulong address) => Locations.FirstOrDefault(l => l.Covers(address));
}

/// <summary>A source line probe: one instruction address where one or more lines of the function's own file begin.</summary>
public sealed record DwarfLineProbe(ulong Address, IReadOnlyList<int> Lines);

/// <summary>
/// What `whyfail probe --lines` needs of one kernel function (read by <see cref="DwarfReader"/>): its file,
/// address ranges, parameters and locals with their locations, and the line table rows of its own file in
/// address order. Addresses are the vmlinux's (link-time) ones.
/// </summary>
public sealed class DwarfFunction
{
    public required string Name { get; init; }
    /// <summary>The function's source file as the kernel tree names it ("kernel/events/core.c").</summary>
    public required string File { get; init; }
    public required IReadOnlyList<(ulong Low, ulong High)> Ranges { get; init; }
    /// <summary>DW_AT_frame_base is DW_OP_call_frame_cfa (gcc's): DW_OP_fbreg offsets are from the CFA.</summary>
    public bool FrameBaseIsCfa { get; init; }
    public required IReadOnlyList<DwarfVariable> Variables { get; init; }
    public required IReadOnlyList<DwarfLineProbe> LineProbes { get; init; }
}
