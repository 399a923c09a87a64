using System.Buffers.Binary;
using Whyfail.Capture.Bpf;
using Whyfail.Decoding;
using Whyfail.Events;

namespace Whyfail.Capture;

/// <summary>
/// What the BPF side copies from user memory per syscall (the capture map), as the map's keys and values: the
/// <see cref="CaptureSpec"/>s the decoder families declare, already in struct wf_capture_spec's layout.
/// <see cref="BuiltIn"/> is made at build time (CaptureTable.g.cs, written by tools/gen-capture-table from
/// <see cref="Decoder.CaptureSpecs"/>; CaptureTableTests recomputes it and fails when the families changed), so that
/// nothing before the traced command's release runs the decoders' registration: one batch update fills the map.
/// </summary>
public sealed partial class CaptureTable
{
    private readonly uint[]? _keys;
    private readonly byte[]? _values;

    private CaptureTable(uint[]? keys, byte[]? values) => (_keys, _values) = (keys, values);

    /// <summary>The families' specs, made at build time.</summary>
    public static CaptureTable BuiltIn { get; } = new(null, null);

    /// <summary>Nothing captured (only the syscall's numbers and result are reported).</summary>
    public static CaptureTable Empty { get; } = new([], []);

    /// <summary>The syscall numbers that have a spec, ascending.</summary>
    public ReadOnlySpan<uint> Keys => _keys ?? GeneratedKeys;

    /// <summary>The specs of <see cref="Keys"/>, one struct wf_capture_spec (<see cref="WfCaptureSpec.SizeOf"/> bytes) each.</summary>
    public ReadOnlySpan<byte> Values => _values ?? GeneratedValues;

    public int Count => Keys.Length;

    /// <summary>
    /// The successful calls reported after a failure of the same task (<see cref="FollowUpCalls"/>), made at build time with
    /// the specs; ascending.
    /// </summary>
    public static ReadOnlySpan<ushort> FollowUps => GeneratedFollowUps;

    /// <summary>
    /// The decoder families that register a decoder or a capture for call <paramref name="nr"/> (bit i: the i-th of
    /// Decoder's families; 0: none), made at build time with the specs, so that decoding a call registers only its own
    /// families (<see cref="Decoder"/>).
    /// </summary>
    public static ulong FamiliesOf(int nr)
    {
        int i = nr is < 0 or > ushort.MaxValue ? -1 : GeneratedFamilyCalls.BinarySearch((ushort)nr);
        return i < 0 ? 0 : GeneratedFamilyMasks[i];
    }

    /// <summary>Whether the call at <paramref name="index"/> (of <see cref="Keys"/>) also copies an argument at sys_enter.</summary>
    public bool HasEntryCopy(int index) => Values[index * WfCaptureSpec.SizeOf + WfCaptureSpec.Layout.EntrySize] != 0;

    /// <summary>
    /// The calls of this table that copy an argument at sys_enter, with their names: each gets the entry program on its
    /// own syscalls:sys_enter_NAME tracepoint (names made at build time with the specs; a call of a custom table that the
    /// built-in one does not copy at entry has none, and is returned without a name).
    /// </summary>
    public IEnumerable<(uint Nr, string? Name)> EntryCalls()
    {
        for (int i = 0; i < Count; i++)
            if (HasEntryCopy(i))
            {
                uint nr = Keys[i];
                yield return (nr, Array.Find(GeneratedEntryCalls, c => c.Nr == nr).Name);
            }
    }

    /// <summary>The table of <paramref name="specs"/> (each number once, below the map's size).</summary>
    public static CaptureTable From(IEnumerable<(int Nr, CaptureSpec Spec)> specs)
    {
        var list = specs.Where(s => s.Nr is >= 0 and < WfConst.MaxSyscalls).OrderBy(s => s.Nr).ToList();
        var values = new byte[list.Count * WfCaptureSpec.SizeOf];
        for (int i = 0; i < list.Count; i++)
            Encode(list[i].Spec, values.AsSpan(i * WfCaptureSpec.SizeOf, WfCaptureSpec.SizeOf));
        return new(list.Select(s => (uint)s.Nr).ToArray(), values);
    }

    /// <summary>The spec of syscall <paramref name="nr"/>, or null when nothing is captured for it (a fresh copy).</summary>
    public CaptureSpec? SpecFor(int nr)
    {
        int i = nr < 0 ? -1 : Keys.BinarySearch((uint)nr);
        return i < 0 ? null : Decode(Values.Slice(i * WfCaptureSpec.SizeOf, WfCaptureSpec.SizeOf));
    }

    /// <summary>Every spec, by number (fresh copies).</summary>
    public IEnumerable<(int Nr, CaptureSpec Spec)> Specs()
    {
        for (int i = 0; i < Count; i++)
            yield return ((int)Keys[i], Decode(Values.Slice(i * WfCaptureSpec.SizeOf, WfCaptureSpec.SizeOf)));
    }

    private static void Encode(CaptureSpec spec, Span<byte> v)
    {
        v.Clear();
        for (int i = 0; i < WfCaptureSpec.Layout.KindCount; i++)
        {
            v[WfCaptureSpec.Layout.Kind + i] = (byte)spec.Kind[i];
            v[WfCaptureSpec.Layout.LenArg + i] = spec.LenArg[i];
            BinaryPrimitives.WriteUInt16LittleEndian(v[(WfCaptureSpec.Layout.Size + 2 * i)..], spec.Size[i]);
        }
        v[WfCaptureSpec.Layout.FdArgs] = spec.FdArgs;
        v[WfCaptureSpec.Layout.NestedArg] = spec.NestedArg;
        v[WfCaptureSpec.Layout.EntryArg] = spec.EntryArg;
        v[WfCaptureSpec.Layout.EntrySize] = spec.EntrySize;
        for (int k = 0; k < WfCaptureSpec.Layout.NestedSizeCount && k < CaptureSpec.MaxNested; k++)
        {
            v[WfCaptureSpec.Layout.NestedPtr + k] = spec.NestedPtr[k];
            v[WfCaptureSpec.Layout.NestedLen + k] = spec.NestedLen[k];
            v[WfCaptureSpec.Layout.NestedLenSize + k] = spec.NestedLenSize[k];
            BinaryPrimitives.WriteUInt16LittleEndian(v[(WfCaptureSpec.Layout.NestedElem + 2 * k)..], spec.NestedElem[k]);
            BinaryPrimitives.WriteUInt16LittleEndian(v[(WfCaptureSpec.Layout.NestedSize + 2 * k)..], spec.NestedSize[k]);
        }
    }

    private static CaptureSpec Decode(ReadOnlySpan<byte> v)
    {
        var spec = new CaptureSpec();
        for (int i = 0; i < WfCaptureSpec.Layout.KindCount; i++)
        {
            spec.Kind[i] = (CaptureKind)v[WfCaptureSpec.Layout.Kind + i];
            spec.LenArg[i] = v[WfCaptureSpec.Layout.LenArg + i];
            spec.Size[i] = BinaryPrimitives.ReadUInt16LittleEndian(v[(WfCaptureSpec.Layout.Size + 2 * i)..]);
        }
        spec.FdArgs = v[WfCaptureSpec.Layout.FdArgs];
        spec.NestedArg = v[WfCaptureSpec.Layout.NestedArg];
        spec.EntryArg = v[WfCaptureSpec.Layout.EntryArg];
        spec.EntrySize = v[WfCaptureSpec.Layout.EntrySize];
        for (int k = 0; k < WfCaptureSpec.Layout.NestedSizeCount && k < CaptureSpec.MaxNested; k++)
        {
            spec.NestedPtr[k] = v[WfCaptureSpec.Layout.NestedPtr + k];
            spec.NestedLen[k] = v[WfCaptureSpec.Layout.NestedLen + k];
            spec.NestedLenSize[k] = v[WfCaptureSpec.Layout.NestedLenSize + k];
            spec.NestedElem[k] = BinaryPrimitives.ReadUInt16LittleEndian(v[(WfCaptureSpec.Layout.NestedElem + 2 * k)..]);
            spec.NestedSize[k] = BinaryPrimitives.ReadUInt16LittleEndian(v[(WfCaptureSpec.Layout.NestedSize + 2 * k)..]);
        }
        return spec;
    }
}
