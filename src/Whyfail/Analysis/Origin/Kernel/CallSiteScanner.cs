using Iced.Intel;

namespace Whyfail.Analysis.Origin.Kernel;

/// <summary>How a function reaches another: a CALL, or a JMP/Jcc that leaves the function (a tail call).</summary>
public enum CallSiteKind { Call, Jump }

/// <summary>One direct branch found in a function's machine code.</summary>
public readonly record struct CallSite(ulong Site, ulong Target, CallSiteKind Kind);

/// <summary>
/// Finds the DIRECT calls (CALL rel32) and the jumps that leave the function (JMP/Jcc rel8/rel32,
/// i.e. tail calls or jumps to a ".cold" part) in 64-bit x86 machine code, with Iced. Indirect calls
/// (retpolines already patched into CALL reg, CALL [mem], paravirt slots) are invisible here.
/// </summary>
public static class CallSiteScanner
{
    /// <summary>Decodes <paramref name="code"/> (loaded at <paramref name="address"/>) linearly.</summary>
    public static List<CallSite> Scan(byte[] code, int length, ulong address)
    {
        var sites = new List<CallSite>();
        var reader = new ByteArrayCodeReader(code, 0, length);
        var decoder = Decoder.Create(64, reader, address, DecoderOptions.None);
        ulong end = address + (ulong)length;
        while (reader.CanReadByte)
        {
            decoder.Decode(out var instr);
            if (instr.IsInvalid) continue;
            if (instr.Op0Kind != OpKind.NearBranch64) continue;
            switch (instr.FlowControl)
            {
                case FlowControl.Call:
                    sites.Add(new CallSite(instr.IP, instr.NearBranch64, CallSiteKind.Call));
                    break;
                case FlowControl.UnconditionalBranch or FlowControl.ConditionalBranch:
                    ulong target = instr.NearBranch64;
                    if (target < address || target >= end)
                        sites.Add(new CallSite(instr.IP, target, CallSiteKind.Jump));
                    break;
            }
        }
        return sites;
    }

    /// <summary>
    /// The target of a static-call trampoline (__SCT__*): its first instruction is "JMP target" when the
    /// call is set, or RET / a return thunk jump when it is not (null then).
    /// </summary>
    public static ulong? TrampolineTarget(byte[] code, ulong address)
    {
        var reader = new ByteArrayCodeReader(code);
        var decoder = Decoder.Create(64, reader, address, DecoderOptions.None);
        for (int i = 0; i < 3 && reader.CanReadByte; i++)
        {
            decoder.Decode(out var instr);
            if (instr.IsInvalid) return null;
            if (instr.Mnemonic is Mnemonic.Endbr64 or Mnemonic.Nop) continue;
            if (instr.FlowControl == FlowControl.UnconditionalBranch && instr.Op0Kind == OpKind.NearBranch64)
                return instr.NearBranch64;
            return null;
        }
        return null;
    }
}
