namespace Whyfail.Decoding;

/// <summary>add_key, request_key: the key type and description, the payload by its length, the keyring (KEY_SPEC_*).</summary>
internal static class KeysFamily
{
    public static void Register(Registry r)
    {
        r.Add("add_key", c => [c.Str(0), c.Str(1), c.Buf(2), c.UDec(3), Keyring(c, 4)],
              s => s.Str(0).Str(1).Sized(2, 3, CaptureSpec.BufferSize));
        r.Add("request_key", c => [c.Str(0), c.Str(1), c.Str(2), Keyring(c, 3)],
              s => s.Str(0).Str(1).Str(2));
        KeyctlFamily.Register(r);
    }

    /// <summary>A key_serial_t (an int): a special keyring by name, else the serial number.</summary>
    internal static string Keyring(Call c, int i) => Xlat.Table("key_spec").Value32(c.UInt(i), hex: false);
}
