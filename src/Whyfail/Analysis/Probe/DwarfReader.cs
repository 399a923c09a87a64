using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using Whyfail.Analysis.Origin.Kernel;
using Whyfail.Analysis.Origin.Source;

namespace Whyfail.Analysis.Probe;

/// <summary>
/// Reads one function's DWARF straight from a debug vmlinux, touching only what that function needs:
/// .debug_aranges names its compilation unit, then only that unit's bytes of .debug_info, its abbreviation
/// table, its line program, and the location and range lists its variables point at. No tool is run and
/// no other unit is read (llvm-dwarfdump on Debian's -dbg vmlinux spends seconds applying the relocations
/// of all of .debug_info first, minutes under an emulated CPU). DWARF 4 and 5 as gcc and clang emit them
/// for the kernel (32-bit DWARF, no split units).
/// </summary>
public sealed class DwarfReader : IDisposable
{
    private readonly ElfImage _elf;
    private readonly Dictionary<string, (ulong Offset, ulong Size)?> _sections = [];

    public string Path => _elf.Path;

    public DwarfReader(string vmlinux) => _elf = ElfImage.Open(vmlinux);

    public void Dispose() => _elf.Dispose();

    /// <summary>Time and bytes the last <see cref="Function"/> took, for the notice.</summary>
    public string LastCost { get; private set; } = "";

    private long _bytesRead;

    private (ulong Offset, ulong Size) Section(string name)
    {
        if (!_sections.TryGetValue(name, out var s)) _sections[name] = s = _elf.FindSection(name);
        return s ?? throw new InvalidDataException($"{_elf.Path} has no {name} section");
    }

    private byte[] Read(string section, ulong offset, int length)
    {
        var (off, size) = Section(section);
        if (offset >= size) throw new InvalidDataException($"{section}: offset 0x{offset:x} is past its end");
        length = (int)Math.Min((ulong)length, size - offset);
        _bytesRead += length;
        return _elf.ReadAt(off + offset, length);
    }

    private byte[] Whole(string section) => Read(section, 0, (int)Section(section).Size);

    // ---- tags, attributes, forms (DWARF 5, 7.5) ----------------------------------------------------
    private const int TagCompileUnit = 0x11, TagSubprogram = 0x2e, TagFormalParameter = 0x05, TagVariable = 0x34,
        TagLexicalBlock = 0x0b, TagInlinedSubroutine = 0x1d, TagBaseType = 0x24, TagPointer = 0x0f, TagReference = 0x10,
        TagTypedef = 0x16, TagConst = 0x26, TagVolatile = 0x35, TagRestrict = 0x37, TagAtomic = 0x47, TagEnum = 0x04;
    private const int AtName = 0x03, AtLowPc = 0x11, AtHighPc = 0x12, AtLocation = 0x02, AtType = 0x49, AtAbstractOrigin = 0x31,
        AtDeclFile = 0x3a, AtFrameBase = 0x40, AtRanges = 0x55, AtStmtList = 0x10, AtByteSize = 0x0b, AtConstValue = 0x1c;

    private sealed record Abbrev(int Tag, bool Children, (int Attr, int Form, long Implicit)[] Specs);

    private struct Value
    {
        public int Form;
        public ulong U;
        public int BlockAt, BlockLen;
    }

    private sealed class Die
    {
        public ulong Offset;   // in .debug_info
        public int Tag, Depth;
        public Dictionary<int, Value> Attrs = [];
    }

    /// <summary>The function whose code contains <paramref name="linkAddress"/>.</summary>
    public DwarfFunction Function(string name, ulong linkAddress)
    {
        var sw = Stopwatch.StartNew();
        _bytesRead = 0;
        ulong cuOffset = UnitOf(linkAddress)
            ?? throw new InvalidDataException($".debug_aranges of {_elf.Path} has no compilation unit for 0x{linkAddress:x} ({name})");
        var unit = Read(".debug_info", cuOffset, 12);
        uint unitLength = BinaryPrimitives.ReadUInt32LittleEndian(unit);
        if (unitLength >= 0xfffffff0) throw new InvalidDataException("64-bit DWARF is not supported");
        byte[] cu = Read(".debug_info", cuOffset, (int)unitLength + 4);
        int version = BinaryPrimitives.ReadUInt16LittleEndian(cu.AsSpan(4));
        int at;
        ulong abbrevOffset;
        int addrSize;
        if (version >= 5)
        {
            addrSize = cu[7];
            abbrevOffset = BinaryPrimitives.ReadUInt32LittleEndian(cu.AsSpan(8));
            at = 12;
        }
        else
        {
            abbrevOffset = BinaryPrimitives.ReadUInt32LittleEndian(cu.AsSpan(6));
            addrSize = cu[10];
            at = 11;
        }
        if (addrSize != 8) throw new InvalidDataException($"address size {addrSize} is not supported");
        var abbrevs = Abbrevs(abbrevOffset);
        var dies = new List<Die>();
        int depth = 0;
        while (at < cu.Length)
        {
            ulong offset = cuOffset + (ulong)at;
            ulong code = Uleb(cu, ref at);
            if (code == 0)
            {
                depth--;
                if (depth < 0) break;
                continue;
            }
            if (!abbrevs.TryGetValue(code, out var ab)) throw new InvalidDataException($"unknown abbreviation {code} at 0x{offset:x}");
            var die = new Die { Offset = offset, Tag = ab.Tag, Depth = depth };
            foreach (var (attr, form, implicitValue) in ab.Specs)
                die.Attrs[attr] = ReadValue(cu, ref at, form, implicitValue, version);
            dies.Add(die);
            if (ab.Children) depth++;
        }
        var byOffset = dies.ToDictionary(d => d.Offset);
        var cuDie = dies[0];
        ulong cuBase = cuDie.Attrs.TryGetValue(AtLowPc, out var cl) ? cl.U : 0;

        int fnIndex = dies.FindIndex(d => d.Tag == TagSubprogram && Ranges(d, cu, cuBase, version).Any(r => linkAddress >= r.Low && linkAddress < r.High));
        if (fnIndex < 0) throw new InvalidDataException($"no DW_TAG_subprogram covers 0x{linkAddress:x} ({name}) in its compilation unit");
        var fn = dies[fnIndex];
        Die? Origin(Die d) => d.Attrs.TryGetValue(AtAbstractOrigin, out var o) && byOffset.TryGetValue(Ref(o, cuOffset), out var od) ? od : null;
        Value? Attr(Die d, int a) => d.Attrs.TryGetValue(a, out var v) ? v : Origin(d) is { } od && od.Attrs.TryGetValue(a, out var ov) ? ov : null;

        var vars = new List<DwarfVariable>();
        var blocks = new List<(int Depth, List<(ulong, ulong)> Ranges, bool Inlined)>();
        for (int i = fnIndex + 1; i < dies.Count && dies[i].Depth > fn.Depth; i++)
        {
            var d = dies[i];
            while (blocks.Count > 0 && blocks[^1].Depth >= d.Depth) blocks.RemoveAt(blocks.Count - 1);
            if (d.Tag is TagLexicalBlock or TagInlinedSubroutine)
            {
                blocks.Add((d.Depth, Ranges(d, cu, cuBase, version), d.Tag == TagInlinedSubroutine));
                continue;
            }
            if (d.Tag is not (TagFormalParameter or TagVariable) || blocks.Any(b => b.Inlined)) continue;
            string? varName = Attr(d, AtName) is { } nv ? StringOf(nv, cu) : null;
            if (varName == null) continue;
            var type = Attr(d, AtType) is { } tv && byOffset.TryGetValue(Ref(tv, cuOffset), out var td) ? td : null;
            int? size = SizeOf(type, byOffset, cuOffset);
            List<DwarfLocation> locs = [];
            if (d.Attrs.TryGetValue(AtConstValue, out var cv) && cv.BlockLen == 0)
                locs.Add(new DwarfLocation(0, ulong.MaxValue, $"DW_OP_consts {(long)cv.U}"));
            else if (d.Attrs.TryGetValue(AtLocation, out var lv))
                locs = Locations(lv, cu, cuBase, version);
            vars.Add(new DwarfVariable(varName, size, d.Tag == TagFormalParameter, locs, blocks.Count > 0 ? blocks[^1].Ranges : []));
        }
        var ranges = Ranges(fn, cu, cuBase, version);
        bool cfa = Attr(fn, AtFrameBase) is { } fb && fb.BlockLen == 1 && cu[fb.BlockAt] == 0x9c;
        int declFile = Attr(fn, AtDeclFile) is { } df ? (int)df.U : -1;
        ulong stmtList = cuDie.Attrs.TryGetValue(AtStmtList, out var sl) ? sl.U : throw new InvalidDataException("the compilation unit has no line table");
        var (file, probes) = LineProbes(stmtList, declFile, ranges);
        LastCost = $"{sw.ElapsedMilliseconds} ms, {_bytesRead / 1024} KiB read";
        return new DwarfFunction
        {
            Name = name,
            File = file,
            Ranges = ranges,
            FrameBaseIsCfa = cfa,
            Variables = vars,
            LineProbes = probes,
        };
    }

    /// <summary>The compilation unit (its .debug_info offset) whose .debug_aranges set covers the address.</summary>
    private ulong? UnitOf(ulong address)
    {
        byte[] a = Whole(".debug_aranges");
        int at = 0;
        while (at + 16 <= a.Length)
        {
            int start = at;
            uint len = BinaryPrimitives.ReadUInt32LittleEndian(a.AsSpan(at));
            if (len == 0 || len >= 0xfffffff0) break;
            ulong info = BinaryPrimitives.ReadUInt32LittleEndian(a.AsSpan(at + 6));
            int addrSize = a[at + 10];
            int p = at + 12;
            int pair = addrSize * 2;
            p = start + ((p - start + pair - 1) / pair) * pair;
            int end = start + 4 + (int)len;
            while (p + pair <= end)
            {
                ulong lo = BinaryPrimitives.ReadUInt64LittleEndian(a.AsSpan(p)), n = BinaryPrimitives.ReadUInt64LittleEndian(a.AsSpan(p + 8));
                p += pair;
                if (lo == 0 && n == 0) break;
                if (address >= lo && address < lo + n) return info;
            }
            at = end;
        }
        return null;
    }

    private Dictionary<ulong, Abbrev> Abbrevs(ulong offset)
    {
        var (_, size) = Section(".debug_abbrev");
        int chunk = 64 * 1024;
        while (true)
        {
            byte[] b = Read(".debug_abbrev", offset, chunk);
            try
            {
                var table = new Dictionary<ulong, Abbrev>();
                int at = 0;
                while (true)
                {
                    ulong code = Uleb(b, ref at);
                    if (code == 0) return table;
                    int tag = (int)Uleb(b, ref at);
                    bool children = b[at++] != 0;
                    var specs = new List<(int, int, long)>();
                    while (true)
                    {
                        int attr = (int)Uleb(b, ref at), form = (int)Uleb(b, ref at);
                        if (attr == 0 && form == 0) break;
                        long imp = form == 0x21 ? Sleb(b, ref at) : 0;
                        specs.Add((attr, form, imp));
                    }
                    table[code] = new Abbrev(tag, children, specs.ToArray());
                }
            }
            catch (IndexOutOfRangeException) when ((ulong)chunk < size - offset)
            {
                chunk *= 4; // the table runs past the chunk read: read more
            }
        }
    }

    private static Value ReadValue(byte[] b, ref int at, int form, long implicitValue, int version)
    {
        var v = new Value { Form = form };
        switch (form)
        {
            case 0x01: v.U = U64(b, at); at += 8; break;                                   // addr
            case 0x0b or 0x11 or 0x25 or 0x29 or 0x0c: v.U = b[at]; at += 1; break;          // data1 ref1 strx1 addrx1 flag
            case 0x05 or 0x12 or 0x26 or 0x2a: v.U = BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(at)); at += 2; break;
            case 0x27 or 0x2b: v.U = (ulong)(b[at] | b[at + 1] << 8 | b[at + 2] << 16); at += 3; break;
            case 0x06 or 0x13 or 0x28 or 0x2c or 0x0e or 0x1f or 0x17 or 0x1c or 0x1d or 0x1f20 or 0x1f21:
                v.U = BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(at)); at += 4; break;   // data4 ref4 strx4 addrx4 strp line_strp sec_offset sup alt
            case 0x10: v.U = version <= 2 ? U64(b, at) : BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(at)); at += version <= 2 ? 8 : 4; break; // ref_addr
            case 0x07 or 0x14 or 0x20 or 0x24: v.U = U64(b, at); at += 8; break;             // data8 ref8 ref_sig8 ref_sup8
            case 0x1e: at += 16; break;                                                      // data16
            case 0x0d: v.U = (ulong)Sleb(b, ref at); break;                                  // sdata
            case 0x0f or 0x15 or 0x1a or 0x1b or 0x22 or 0x23 or 0x1f01 or 0x1f02: v.U = Uleb(b, ref at); break;
            case 0x08: { int s = at; while (b[at] != 0) at++; v.BlockAt = s; v.BlockLen = at - s; at++; v.Form = 0x08; break; } // string
            case 0x0a: { int n = b[at++]; v.BlockAt = at; v.BlockLen = n; at += n; break; }
            case 0x03: { int n = BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(at)); at += 2; v.BlockAt = at; v.BlockLen = n; at += n; break; }
            case 0x04: { int n = (int)BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(at)); at += 4; v.BlockAt = at; v.BlockLen = n; at += n; break; }
            case 0x09 or 0x18: { int n = (int)Uleb(b, ref at); v.BlockAt = at; v.BlockLen = n; at += n; break; } // block exprloc
            case 0x19: v.U = 1; break;                                                       // flag_present
            case 0x21: v.U = (ulong)implicitValue; break;                                    // implicit_const
            case 0x16: return ReadValue(b, ref at, (int)Uleb(b, ref at), 0, version);         // indirect
            default: throw new InvalidDataException($"DWARF form 0x{form:x} is not supported");
        }
        return v;
    }

    private static ulong Ref(Value v, ulong cuOffset) => v.Form is 0x10 ? v.U : cuOffset + v.U;

    private string? StringOf(Value v, byte[] cu)
    {
        switch (v.Form)
        {
            case 0x08: return Encoding.UTF8.GetString(cu, v.BlockAt, v.BlockLen);
            case 0x0e: return SectionString(".debug_str", v.U);
            case 0x1f: return SectionString(".debug_line_str", v.U);
            default: return null; // strx needs .debug_str_offsets: not emitted for the kernel
        }
    }

    private readonly Dictionary<(string, ulong), string> _strings = [];

    /// <summary>A NUL-terminated string of a string section, read on its own (the sections are megabytes).</summary>
    private string SectionString(string section, ulong offset)
    {
        if (_strings.TryGetValue((section, offset), out var known)) return known;
        for (int chunk = 128; ; chunk *= 8)
        {
            byte[] b = Read(section, offset, chunk);
            int end = Array.IndexOf(b, (byte)0);
            if (end >= 0 || b.Length < chunk)
                return _strings[(section, offset)] = Encoding.UTF8.GetString(b, 0, end < 0 ? b.Length : end);
        }
    }

    /// <summary>Bytes of a type (typedefs and qualifiers followed); null for aggregates and arrays.</summary>
    private static int? SizeOf(Die? t, Dictionary<ulong, Die> byOffset, ulong cuOffset)
    {
        for (int hops = 0; t != null && hops < 16; hops++)
        {
            switch (t.Tag)
            {
                case TagPointer or TagReference: return 8;
                case TagBaseType or TagEnum: return t.Attrs.TryGetValue(AtByteSize, out var bs) ? (int)bs.U : null;
                case TagTypedef or TagConst or TagVolatile or TagRestrict or TagAtomic:
                    if (!t.Attrs.TryGetValue(AtType, out var next)) return null;
                    t = byOffset.GetValueOrDefault(Ref(next, cuOffset));
                    break;
                default: return null;
            }
        }
        return null;
    }

    private List<(ulong Low, ulong High)> Ranges(Die d, byte[] cu, ulong cuBase, int version)
    {
        var list = new List<(ulong, ulong)>();
        if (d.Attrs.TryGetValue(AtLowPc, out var lo) && d.Attrs.TryGetValue(AtHighPc, out var hi))
        {
            ulong high = hi.Form == 0x01 ? hi.U : lo.U + hi.U;
            if (high > lo.U) list.Add((lo.U, high));
            return list;
        }
        if (!d.Attrs.TryGetValue(AtRanges, out var r) || r.Form is 0x23) return list;
        ulong baseAddr = cuBase;
        if (version >= 5)
        {
            byte[] b = Read(".debug_rnglists", r.U, 4096);
            int at = 0;
            while (at < b.Length)
            {
                int kind = b[at++];
                switch (kind)
                {
                    case 0: return list;
                    case 4: { ulong s = Uleb(b, ref at), e = Uleb(b, ref at); list.Add((baseAddr + s, baseAddr + e)); break; }
                    case 5: baseAddr = U64(b, at); at += 8; break;
                    case 6: list.Add((U64(b, at), U64(b, at + 8))); at += 16; break;
                    case 7: { ulong s = U64(b, at); at += 8; list.Add((s, s + Uleb(b, ref at))); break; }
                    default: return list; // indexed forms need .debug_addr: not emitted for the kernel
                }
            }
            return list;
        }
        byte[] r4 = Read(".debug_ranges", r.U, 4096);
        for (int at = 0; at + 16 <= r4.Length; at += 16)
        {
            ulong s = U64(r4, at), e = U64(r4, at + 8);
            if (s == 0 && e == 0) break;
            if (s == ulong.MaxValue) { baseAddr = e; continue; }
            list.Add((baseAddr + s, baseAddr + e));
        }
        return list;
    }

    private List<DwarfLocation> Locations(Value v, byte[] cu, ulong cuBase, int version)
    {
        var list = new List<DwarfLocation>();
        if (v.Form is 0x18 or 0x09 or 0x0a or 0x03 or 0x04)
        {
            list.Add(new DwarfLocation(0, ulong.MaxValue, Expression(cu, v.BlockAt, v.BlockLen)));
            return list;
        }
        if (v.Form != 0x17 && !(version < 4 && v.Form is 0x06)) return list; // loclistx needs .debug_addr/offsets: not emitted for the kernel
        ulong baseAddr = cuBase;
        if (version >= 5)
        {
            byte[] b = Read(".debug_loclists", v.U, 8192);
            int at = 0;
            while (at < b.Length)
            {
                int kind = b[at++];
                ulong s, e;
                switch (kind)
                {
                    case 0: return list;
                    case 4: s = baseAddr + Uleb(b, ref at); e = baseAddr + Uleb(b, ref at); break;
                    case 5: s = 0; e = ulong.MaxValue; break;
                    case 6: baseAddr = U64(b, at); at += 8; continue;
                    case 7: s = U64(b, at); e = U64(b, at + 8); at += 16; break;
                    case 8: s = U64(b, at); at += 8; e = s + Uleb(b, ref at); break;
                    default: return list;
                }
                int n = (int)Uleb(b, ref at);
                if (at + n > b.Length) return list;
                list.Add(new DwarfLocation(s, e, Expression(b, at, n)));
                at += n;
            }
            return list;
        }
        byte[] l4 = Read(".debug_loc", v.U, 8192);
        for (int at = 0; at + 16 <= l4.Length;)
        {
            ulong s = U64(l4, at), e = U64(l4, at + 8);
            at += 16;
            if (s == 0 && e == 0) break;
            if (s == ulong.MaxValue) { baseAddr = e; continue; }
            int n = BinaryPrimitives.ReadUInt16LittleEndian(l4.AsSpan(at));
            at += 2;
            if (at + n > l4.Length) break;
            list.Add(new DwarfLocation(baseAddr + s, baseAddr + e, Expression(l4, at, n)));
            at += n;
        }
        return list;
    }

    /// <summary>A DWARF expression in llvm-dwarfdump's spelling (what <see cref="LocalValues"/> reads); unknown operations by number.</summary>
    internal static string Expression(byte[] b, int at, int len)
    {
        var ops = new List<string>();
        int end = at + len;
        while (at < end)
        {
            int op = b[at++];
            switch (op)
            {
                case >= 0x50 and <= 0x6f: ops.Add($"DW_OP_reg{op - 0x50} R"); break;
                case >= 0x70 and <= 0x8f: { long off = Sleb(b, ref at); ops.Add($"DW_OP_breg{op - 0x70} R{(off < 0 ? "" : "+")}{off}"); break; }
                case >= 0x30 and <= 0x4f: ops.Add($"DW_OP_lit{op - 0x30}"); break;
                case 0x91: ops.Add($"DW_OP_fbreg {Sleb(b, ref at)}"); break;
                case 0x06: ops.Add("DW_OP_deref"); break;
                case 0x9f: ops.Add("DW_OP_stack_value"); break;
                case 0x9c: ops.Add("DW_OP_call_frame_cfa"); break;
                case 0x23: ops.Add($"DW_OP_plus_uconst 0x{Uleb(b, ref at):x}"); break;
                case 0x08: ops.Add($"DW_OP_const1u 0x{b[at++]:x}"); break;
                case 0x09: ops.Add($"DW_OP_const1s {(sbyte)b[at++]}"); break;
                case 0x0a: ops.Add($"DW_OP_const2u 0x{BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(at)):x}"); at += 2; break;
                case 0x0b: ops.Add($"DW_OP_const2s {BinaryPrimitives.ReadInt16LittleEndian(b.AsSpan(at))}"); at += 2; break;
                case 0x0c: ops.Add($"DW_OP_const4u 0x{BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(at)):x}"); at += 4; break;
                case 0x0d: ops.Add($"DW_OP_const4s {BinaryPrimitives.ReadInt32LittleEndian(b.AsSpan(at))}"); at += 4; break;
                case 0x0e: ops.Add($"DW_OP_const8u 0x{U64(b, at):x}"); at += 8; break;
                case 0x0f: ops.Add($"DW_OP_const8s {(long)U64(b, at)}"); at += 8; break;
                case 0x10: ops.Add($"DW_OP_constu 0x{Uleb(b, ref at):x}"); break;
                case 0x11: ops.Add($"DW_OP_consts {Sleb(b, ref at)}"); break;
                default:
                    ops.Add($"DW_OP_0x{op:x}");
                    return string.Join(", ", ops); // operands of the rest are not decoded: the expression is shown as ?
            }
        }
        return string.Join(", ", ops);
    }

    /// <summary>
    /// Runs the unit's line program and keeps the is_stmt rows of the function's own file inside its ranges:
    /// one probe per address, with the lines that begin there in row order.
    /// </summary>
    private (string File, List<DwarfLineProbe> Probes) LineProbes(ulong offset, int declFile, IReadOnlyList<(ulong Low, ulong High)> ranges)
    {
        uint unitLength = BinaryPrimitives.ReadUInt32LittleEndian(Read(".debug_line", offset, 4));
        byte[] b = Read(".debug_line", offset, (int)unitLength + 4);
        int at = 4;
        int version = BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(at)); at += 2;
        if (version >= 5) at += 2; // address_size, segment_selector_size
        uint headerLength = BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(at)); at += 4;
        int programAt = at + (int)headerLength;
        int minInst = b[at++];
        if (version >= 4) at++; // maximum_operations_per_instruction
        bool defaultIsStmt = b[at++] != 0;
        int lineBase = (sbyte)b[at++], lineRange = b[at++], opcodeBase = b[at++];
        var stdLengths = b.AsSpan(at, opcodeBase - 1).ToArray();
        at += opcodeBase - 1;
        var dirs = new List<string>();
        var files = new List<(string Name, int Dir)>();
        if (version >= 5)
        {
            foreach (var isFiles in new[] { false, true })
            {
                int nFormats = b[at++];
                var formats = new (int Type, int Form)[nFormats];
                for (int i = 0; i < nFormats; i++) formats[i] = ((int)Uleb(b, ref at), (int)Uleb(b, ref at));
                ulong count = Uleb(b, ref at);
                for (ulong k = 0; k < count; k++)
                {
                    string name = "";
                    int dir = 0;
                    foreach (var (type, form) in formats)
                    {
                        var v = ReadValue(b, ref at, form, 0, 5);
                        if (type == 1) name = StringOf(v, b) ?? ""; // DW_LNCT_path
                        else if (type == 2) dir = (int)v.U;         // DW_LNCT_directory_index
                    }
                    if (isFiles) files.Add((name, dir)); else dirs.Add(name);
                }
            }
        }
        else
        {
            dirs.Add("");
            while (b[at] != 0) { int s = at; while (b[at] != 0) at++; dirs.Add(Encoding.UTF8.GetString(b, s, at - s)); at++; }
            at++;
            files.Add(("", 0));
            while (b[at] != 0)
            {
                int s = at; while (b[at] != 0) at++;
                string name = Encoding.UTF8.GetString(b, s, at - s); at++;
                int dir = (int)Uleb(b, ref at); Uleb(b, ref at); Uleb(b, ref at);
                files.Add((name, dir));
            }
        }
        string FileName(int i) => i >= 0 && i < files.Count
            ? KernelPaths.Relative(files[i].Name.StartsWith('/') || files[i].Dir >= dirs.Count ? files[i].Name : dirs[files[i].Dir] + "/" + files[i].Name)
            : "";
        string file = FileName(declFile);

        var byAddress = new SortedDictionary<ulong, List<int>>();
        at = programAt;
        ulong address = 0;
        int fileIndex = 1, line = 1;
        bool isStmt = defaultIsStmt;
        var sameFile = new Dictionary<int, bool>();
        void Emit()
        {
            if (!isStmt || line == 0 || !ranges.Any(r => address >= r.Low && address < r.High)) return;
            if (!sameFile.TryGetValue(fileIndex, out bool same)) sameFile[fileIndex] = same = FileName(fileIndex) == file;
            if (!same) return;
            if (!byAddress.TryGetValue(address, out var lines)) byAddress[address] = lines = [];
            if (lines.Count == 0 || lines[^1] != line) lines.Add(line);
        }
        void Reset() { address = 0; fileIndex = 1; line = 1; isStmt = defaultIsStmt; }
        while (at < b.Length)
        {
            int op = b[at++];
            if (op >= opcodeBase)
            {
                int adj = op - opcodeBase;
                address += (ulong)(adj / lineRange * minInst);
                line += lineBase + adj % lineRange;
                Emit();
                continue;
            }
            switch (op)
            {
                case 0:
                {
                    int n = (int)Uleb(b, ref at);
                    int next = at + n;
                    int sub = b[at++];
                    if (sub == 1) { Emit(); Reset(); }
                    else if (sub == 2) address = U64(b, at);
                    at = next;
                    break;
                }
                case 1: Emit(); break;
                case 2: address += Uleb(b, ref at) * (ulong)minInst; break;
                case 3: line += (int)Sleb(b, ref at); break;
                case 4: fileIndex = (int)Uleb(b, ref at); break;
                case 5: Uleb(b, ref at); break;
                case 6: isStmt = !isStmt; break;
                case 7 or 10 or 11: break;
                case 8: address += (ulong)((255 - opcodeBase) / lineRange * minInst); break;
                case 9: address += BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(at)); at += 2; break;
                default:
                    for (int k = 0; k < stdLengths[op - 1]; k++) Uleb(b, ref at);
                    break;
            }
        }
        return (file, byAddress.Select(kv => new DwarfLineProbe(kv.Key, kv.Value)).ToList());
    }

    private static ulong U64(byte[] b, int at) => BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(at));

    private static ulong Uleb(byte[] b, ref int at)
    {
        ulong v = 0;
        int shift = 0;
        while (true)
        {
            byte x = b[at++];
            if (shift < 64) v |= (ulong)(x & 0x7f) << shift;
            shift += 7;
            if ((x & 0x80) == 0) return v;
        }
    }

    private static long Sleb(byte[] b, ref int at)
    {
        long v = 0;
        int shift = 0;
        byte x;
        do
        {
            x = b[at++];
            if (shift < 64) v |= (long)(x & 0x7f) << shift;
            shift += 7;
        } while ((x & 0x80) != 0);
        if (shift < 64 && (x & 0x40) != 0) v |= -1L << shift;
        return v;
    }
}
