namespace Whyfail.Decoding;

/// <summary>
/// keyctl: the command, and its arguments as that command reads them (strace's keyctl.c): key serials by
/// KEY_SPEC_* name, type/description strings, payloads by their length, keyctl_dh_params and
/// keyctl_pkey_params. Output buffers are shown as pointers (on failure the kernel wrote nothing).
/// </summary>
internal static class KeyctlFamily
{
    private static readonly XlatTable Cmds = Xlat.Table("keyctl_commands");
    private static readonly StructLayout Dh = Xlat.Struct("keyctl_dh_params");
    private static readonly StructLayout Pkey = Xlat.Struct("keyctl_pkey_params");
    private static readonly StructLayout Kdf = Xlat.Struct("keyctl_kdf_params");

    /// <summary>Bytes copied of each pointer argument: a string, a payload prefix or one of the structures.</summary>
    private const int Copy = CaptureSpec.StringSize;
    /// <summary>Bytes copied of the kdf hash name: more than -s 32 shows, so that a longer one gets its "...".</summary>
    private const int HashCopy = 64;

    public static void Register(Registry r)
    {
        // Which argument is a string, a buffer or a structure depends on the command, known only after the
        // copy: every pointer-sized argument is copied as bytes (harmless for the integers: nothing is readable there).
        // KEYCTL_DH_COMPUTE's keyctl_kdf_params (argument 4) points to two more objects, copied as second-level
        // copies: hashname, a string with no length beside it (its own pointer stands as the length, so the copy is
        // always the cap: no mapped address is below it), and otherinfo by otherinfolen.
        r.Add("keyctl", Decode, s => s.Fixed(1, Copy).Fixed(2, Copy).Fixed(3, Copy).Fixed(4, Copy)
            .Nested(0, 4, Kdf.Off("hashname"), Kdf.Off("hashname"), 8, 1, HashCopy)
            .Nested(1, 4, Kdf.Off("otherinfo"), Kdf.Off("otherinfolen"), 4, 1, Copy));
    }

    private static string[] Decode(Call c)
    {
        var name = Cmds.Lookup(c.UInt(0));
        var op = name ?? Cmds.Value32(c.UInt(0), "KEYCTL_???");
        string K(int i) => KeysFamily.Keyring(c, i);
        string U64(int i) => c.UDec(i);
        string U32(int i) => c.UDec32(i);
        string Out(int i) => c.Ptr(i);
        return name switch
        {
            "KEYCTL_GET_KEYRING_ID" => [op, K(1), c.Dec(2)],
            "KEYCTL_JOIN_SESSION_KEYRING" => [op, CStr(c, 1)],
            "KEYCTL_UPDATE" => [op, K(1), StrN(c, 2, c[3]), U64(3)],
            "KEYCTL_REVOKE" or "KEYCTL_CLEAR" or "KEYCTL_INVALIDATE" or "KEYCTL_ASSUME_AUTHORITY" => [op, K(1)],
            "KEYCTL_LINK" or "KEYCTL_UNLINK" => [op, K(1), K(2)],
            "KEYCTL_DESCRIBE" or "KEYCTL_READ" or "KEYCTL_GET_SECURITY" => [op, K(1), Out(2), U64(3)],
            "KEYCTL_SEARCH" => [op, K(1), CStr(c, 2), CStr(c, 3), K(4)],
            "KEYCTL_CHOWN" => [op, K(1), Fmt.Id(c[2]), Fmt.Id(c[3])],
            "KEYCTL_SETPERM" => [op, K(1), c.Hex32(2)],
            "KEYCTL_INSTANTIATE" => [op, K(1), StrN(c, 2, c[3]), U64(3), K(4)],
            "KEYCTL_NEGATE" => [op, K(1), U32(2), K(3)],
            "KEYCTL_SET_REQKEY_KEYRING" =>
                [op, Xlat.Table("key_reqkeys").Value32(c.UInt(1), "KEY_REQKEY_DEFL_???", hex: false)],
            "KEYCTL_SET_TIMEOUT" => [op, K(1), U32(2)],
            "KEYCTL_SESSION_TO_PARENT" => [op],
            "KEYCTL_REJECT" => [op, K(1), U32(2), Error(c.UInt(3)), K(4)],
            "KEYCTL_INSTANTIATE_IOV" => [op, K(1), c.Ptr(2), U64(3), K(4)],
            "KEYCTL_GET_PERSISTENT" => [op, Fmt.Id(c[1]), K(2)],
            "KEYCTL_DH_COMPUTE" => [op, DhParams(c, 1), Out(2), U64(3), KdfParams(c, 4)],
            "KEYCTL_PKEY_QUERY" => [op, K(1), c.Hex(2), CStr(c, 3), Out(4)],
            "KEYCTL_PKEY_ENCRYPT" or "KEYCTL_PKEY_DECRYPT" or "KEYCTL_PKEY_SIGN" => PkeyOp(c, op, verify: false),
            "KEYCTL_PKEY_VERIFY" => PkeyOp(c, op, verify: true),
            "KEYCTL_RESTRICT_KEYRING" => [op, K(1), CStr(c, 2), CStr(c, 3)],
            "KEYCTL_MOVE" => [op, K(1), K(2), K(3), Xlat.Table("keyctl_move_flags").Flags(c.UInt(4))],
            "KEYCTL_CAPABILITIES" => [op, Out(1), U64(2)],
            _ => [op, c.Hex(1), c.Hex(2), c.Hex(3), c.Hex(4)],
        };
    }

    /// <summary>An errno argument (KEYCTL_REJECT's error, an unsigned int): its name, else the number.</summary>
    private static string Error(uint e) => (e <= int.MaxValue ? Errno.Name((int)e) : null) ?? Fmt.UInt(e);

    /// <summary>
    /// A NUL-terminated string in argument i's byte copy, as strace's printstr: quoted up to the NUL (at most -s
    /// bytes, then "..."); the pointer when its end could not be read.
    /// </summary>
    internal static string CStr(Call c, int i) => CStr(c[i], c.Data(i), c.Limit);

    /// <summary><see cref="CStr(Call, int)"/> for the bytes <paramref name="d"/> copied at <paramref name="addr"/>.</summary>
    internal static string CStr(ulong addr, byte[]? d, int limit)
    {
        if (addr == 0) return "NULL";
        if (d is null) return Fmt.Ptr(addr);
        int nul = Array.IndexOf(d, (byte)0);
        if (nul >= 0) return StringEscaper.Quote(d.AsSpan(0, nul), limit, false);
        // No NUL in what was copied: strace shows -s bytes and "..." when that much was readable.
        return d.Length > limit ? StringEscaper.Quote(d, limit, true) : Fmt.Ptr(addr);
    }

    /// <summary>
    /// <paramref name="len"/> bytes at argument i (strace's printstrn): the first -s of them quoted, "..." when there
    /// are more; the pointer when those bytes could not all be read.
    /// </summary>
    internal static string StrN(Call c, int i, ulong len) => StrN(c[i], c.Data(i), len, c.Limit);

    /// <summary><see cref="StrN(Call, int, ulong)"/> for the bytes <paramref name="d"/> copied at <paramref name="addr"/>.</summary>
    internal static string StrN(ulong addr, byte[]? d, ulong len, int limit)
    {
        if (addr == 0) return "NULL";
        int need = (int)Math.Min(len, (ulong)limit);
        if (d is null || d.Length < need) return Fmt.Ptr(addr);
        return StringEscaper.Quote(d.AsSpan(0, need), limit, len > (ulong)limit);
    }

    /// <summary>
    /// struct keyctl_kdf_params: hashname and otherinfo from their second-level copies (nested entries 0 and 1), the
    /// pointer when they could not be read, __spare when not all zero.
    /// </summary>
    private static string KdfParams(Call c, int i)
    {
        if (c[i] == 0) return "NULL";
        if (!c.TryData(i, Kdf.Size, out var d)) return c.Ptr(i);
        var m = new Mem(d);
        ulong hash = m.U64(Kdf.Off("hashname")), other = m.U64(Kdf.Off("otherinfo"));
        uint otherLen = m.U32(Kdf.Off("otherinfolen"));
        var f = new List<string>
        {
            "hashname=" + CStr(hash, c.Nested(i, 0)?.Data, c.Limit),
            // the kernel does not read otherinfo when otherinfolen is 0
            "otherinfo=" + (otherLen == 0 ? Fmt.Ptr(other) : StrN(other, c.Nested(i, 1)?.Data, otherLen, c.Limit)),
            "otherinfolen=" + Fmt.UInt(otherLen),
        };
        Spare(f, m, Kdf);
        return Fmt.Struct(f);
    }

    /// <summary>struct keyctl_dh_params {private, prime, base}: three key serials.</summary>
    private static string DhParams(Call c, int i)
    {
        if (c[i] == 0) return "NULL";
        if (!c.TryData(i, Dh.Size, out var d)) return c.Ptr(i);
        var m = new Mem(d);
        string K(string f) => Xlat.Table("key_spec").Value32(m.U32(Dh.Off(f)), hex: false);
        return Fmt.Struct(["private=" + K("priv"), "prime=" + K("prime"), "base=" + K("base")]);
    }

    /// <summary>
    /// KEYCTL_PKEY_{ENCRYPT,DECRYPT,SIGN,VERIFY}: struct keyctl_pkey_params, the info string, the input of in_len
    /// bytes, and the output buffer (VERIFY: the second input of in2_len bytes).
    /// </summary>
    private static string[] PkeyOp(Call c, string op, bool verify)
    {
        if (c[1] == 0 || !c.TryData(1, Pkey.Size, out var d))
            return [op, c.Ptr(1), CStr(c, 2), c.Ptr(3), c.Ptr(4)];
        var m = new Mem(d);
        uint inLen = m.U32(Pkey.Off("in_len")), len2 = m.U32(Pkey.Off("out_len"));
        var f = new List<string>
        {
            "key_id=" + Xlat.Table("key_spec").Value32(m.U32(Pkey.Off("key_id")), hex: false),
            "in_len=" + Fmt.UInt(inLen),
            (verify ? "in2_len=" : "out_len=") + Fmt.UInt(len2),
        };
        Spare(f, m, Pkey);
        return [op, Fmt.Struct(f), CStr(c, 2), StrN(c, 3, inLen), verify ? StrN(c, 4, len2) : c.Ptr(4)];
    }

    /// <summary>A structure's reserved __u32 __spare[] words, in hex, when not all zero (strace's IS_ARRAY_ZERO).</summary>
    private static void Spare(List<string> f, Mem m, StructLayout s)
    {
        int at = s.Off("__spare"), n = s.SizeOf("__spare") / 4;
        var words = Enumerable.Range(0, n).Select(k => m.U32(at + 4 * k)).ToList();
        if (words.Any(w => w != 0)) f.Add("__spare=" + Fmt.Array(words.Select(w => Fmt.Hex(w))));
    }
}
