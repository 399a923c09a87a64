using System.Globalization;
using Whyfail.Events;

namespace Whyfail.Decoding;

/// <summary>How an io_uring completion with an error is written: io_uring_complete(IORING_OP_OPENAT, user_data=0x2a).</summary>
public static class UringText
{
    /// <summary>The name shown in place of a syscall's.</summary>
    public const string Name = "io_uring_complete";

    public static string OpName(int opcode) =>
        Xlat.Table("io_uring_ops").Lookup((ulong)opcode) ?? $"opcode {opcode.ToString(CultureInfo.InvariantCulture)}";

    public static (string Syscall, string[] Args) Decode(UringCompletion u) =>
        (Name, [OpName(u.Opcode), "user_data=0x" + u.UserData.ToString("x", CultureInfo.InvariantCulture)]);
}
