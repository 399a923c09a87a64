namespace Whyfail.Decoding;

/// <summary>
/// struct msghdr (sendmsg, recvmsg) in strace's notation. The control messages are copied as a second-level
/// capture (<see cref="Capture"/>) and decoded by <see cref="Cmsg"/>; the name and iovec buffers are shown by
/// address, NULL, or [] when empty; msg_control is left out when msg_controllen is 0, as strace does.
/// </summary>
internal static class Msghdr
{
    private static readonly StructLayout L = Xlat.Struct("msghdr");

    public static int Size => L.Size;

    /// <summary>The nested entry of the control buffer.</summary>
    private const int ControlEntry = 0;

    /// <summary>How much of the control buffer is copied (cmsgs are small: SCM_RIGHTS of 250 descriptors fits).</summary>
    private const int ControlCap = 1024;

    /// <summary>sendmsg's capture: the msghdr (argument <paramref name="i"/>) and the control buffer it points to.</summary>
    public static CaptureSpec Capture(CaptureSpec s, int i) =>
        s.Fixed(i, L.Size).Nested(ControlEntry, i, L.Off("msg_control"), L.Off("msg_controllen"),
            L.SizeOf("msg_controllen"), 1, ControlCap);

    /// <summary>sendmsg's message: every field as the program passed it.</summary>
    public static string Send(Call c, int i)
    {
        if (c[i] == 0) return "NULL";
        if (!c.TryData(i, L.Size, out var d)) return c.Ptr(i);
        var m = new Mem(d);
        ulong iovlen = m.U64(L.Off("msg_iovlen")), controllen = m.U64(L.Off("msg_controllen"));
        var f = new List<string>
        {
            "msg_name=" + Fmt.Ptr(m.U64(L.Off("msg_name"))),
            "msg_namelen=" + Fmt.Int(m.U32(L.Off("msg_namelen"))),
            "msg_iov=" + Fmt.ArrayPtr(m.U64(L.Off("msg_iov")), iovlen),
            "msg_iovlen=" + Fmt.UDec(iovlen),
        };
        if (controllen != 0)
        {
            var ctl = c.Nested(i, ControlEntry);
            f.Add("msg_control=" + Cmsg.Format(ctl?.Data, ctl?.Data is not null, ctl?.Faulted ?? false,
                m.U64(L.Off("msg_control")), controllen));
        }
        f.Add("msg_controllen=" + Fmt.UDec(controllen));
        f.Add("msg_flags=" + Xlat.Table("msg_flags").Flags(m.U32(L.Off("msg_flags"))));
        return Fmt.Struct(f);
    }

    /// <summary>recvmsg's message: after a failure nothing was received; strace shows the name length offered.</summary>
    public static string Receive(Call c, int i)
    {
        if (c[i] == 0) return "NULL";
        if (c.Ok || !c.TryData(i, L.Size, out var d)) return c.Ptr(i);
        return "{msg_namelen=" + Fmt.Int(new Mem(d).U32(L.Off("msg_namelen"))) + "}";
    }
}
