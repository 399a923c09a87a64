using System.Buffers.Binary;
using System.Diagnostics;
using Whyfail.Decoding;
using Whyfail.Events;
using Xunit;
using Encoding = System.Text.Encoding;

namespace Whyfail.Tests.Decoding;

/// <summary>Builds SyscallEvents as the capture stage would, and renders them strace style.</summary>
internal static class Kit
{
    public const ulong AtFdcwd = unchecked((ulong)-100L);

    public static int Nr(string name) =>
        SyscallTable.TryGetNumber(name, out var nr) ? nr : throw new ArgumentException($"no syscall {name}");

    public static SyscallEvent Ev(string name, ulong[] args, long ret = -1, bool truncated = false, params CapturedArg[] caps) =>
        new() { Nr = Nr(name), Args = Pad(args), Ret = ret, CaptureTruncated = truncated, Captured = caps };

    public static ulong[] Pad(ulong[] a)
    {
        var r = new ulong[6];
        Array.Copy(a, r, Math.Min(6, a.Length));
        return r;
    }

    /// <summary>A string capture: the bytes without the NUL, as the BPF side stores them.</summary>
    public static CapturedArg Str(int arg, string s) => new(arg, CaptureKind.String, 0, Encoding.UTF8.GetBytes(s), 0);
    public static CapturedArg StrBytes(int arg, byte[] b) => new(arg, CaptureKind.String, 0, b, 0);
    public static CapturedArg Fixed(int arg, byte[] b) => new(arg, CaptureKind.Fixed, 0, b, b.Length);
    public static CapturedArg Sized(int arg, byte[] b, int fullLength = -1) =>
        new(arg, CaptureKind.Sized, 0, b, fullLength < 0 ? b.Length : fullLength);
    public static CapturedArg ByPtr(int arg, byte[] b) => new(arg, CaptureKind.SizedByPointer, 0, b, b.Length);
    public static CapturedArg Vec(int arg, int index, string s) => new(arg, CaptureKind.StringVector, index, Encoding.UTF8.GetBytes(s), 0);
    public static CapturedArg Unreadable(int arg, CaptureKind kind = CaptureKind.Fixed) => new(arg, kind, 0, null, 0);

    /// <summary>name(arg, arg, ...) as strace prints the call.</summary>
    public static string Line(SyscallEvent e, int limit = 32) =>
        SyscallTable.DisplayName(e.Nr) + "(" + string.Join(", ", Decoder.Decode(e, limit)) + ")";

    /// <summary>Decodes without the catch-all, so that a decoder that throws fails the test.</summary>
    public static string[] Raw(SyscallEvent e, int limit = 32) => Decoder.DecodeUnguarded(e, limit);

    public static byte[] Le32(uint v) { var b = new byte[4]; BinaryPrimitives.WriteUInt32LittleEndian(b, v); return b; }
    public static byte[] Le64(ulong v) { var b = new byte[8]; BinaryPrimitives.WriteUInt64LittleEndian(b, v); return b; }
}

/// <summary>Lays out a C struct byte by byte (little endian, x86_64).</summary>
internal sealed class StructBytes(int size)
{
    private readonly byte[] _b = new byte[size];
    public StructBytes U8(int o, byte v) { _b[o] = v; return this; }
    public StructBytes U16(int o, ushort v) { BinaryPrimitives.WriteUInt16LittleEndian(_b.AsSpan(o), v); return this; }
    public StructBytes U16BE(int o, ushort v) { BinaryPrimitives.WriteUInt16BigEndian(_b.AsSpan(o), v); return this; }
    public StructBytes U32(int o, uint v) { BinaryPrimitives.WriteUInt32LittleEndian(_b.AsSpan(o), v); return this; }
    public StructBytes U32BE(int o, uint v) { BinaryPrimitives.WriteUInt32BigEndian(_b.AsSpan(o), v); return this; }
    public StructBytes I32(int o, int v) => U32(o, (uint)v);
    public StructBytes U64(int o, ulong v) { BinaryPrimitives.WriteUInt64LittleEndian(_b.AsSpan(o), v); return this; }
    public StructBytes I64(int o, long v) => U64(o, (ulong)v);
    public StructBytes Raw(int o, ReadOnlySpan<byte> v) { v.CopyTo(_b.AsSpan(o)); return this; }
    public StructBytes Ascii(int o, string s) => Raw(o, Encoding.ASCII.GetBytes(s));
    public byte[] Bytes => _b;
}

/// <summary>
/// A test that compiles C with the installed headers: skipped, visibly, where no C compiler (cc) is
/// installed, except in CI (CI=true), where the compiler is a build dependency and its absence a failure.
/// </summary>
public sealed class CompilerFactAttribute : FactAttribute
{
    public CompilerFactAttribute()
    {
        if (!CStruct.CompilerPresent && Environment.GetEnvironmentVariable("CI") != "true")
            Skip = "no C compiler (cc) on this machine: the layout is compiled from the installed headers";
    }
}

/// <summary>
/// Produces the bytes of a struct exactly as the C compiler lays it out with the installed headers:
/// compiles a tiny program that fills it and prints it in hex. Tests that use it are [CompilerFact]s.
/// </summary>
internal static class CStruct
{
    /// <summary>Whether cc is on the PATH.</summary>
    public static bool CompilerPresent { get; } = (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin")
        .Split(':', StringSplitOptions.RemoveEmptyEntries).Any(d => File.Exists(Path.Combine(d, "cc")));

    public static byte[] Bytes(string includes, string type, string fill)
    {
        var dir = Directory.CreateTempSubdirectory("whyfail-cstruct-");
        try
        {
            var src = Path.Combine(dir.FullName, "s.c");
            var exe = Path.Combine(dir.FullName, "s");
            File.WriteAllText(src, $$"""
                #include <stdio.h>
                #include <string.h>
                #include <stdint.h>
                {{includes}}
                int main(void) {
                    {{type}} s;
                    memset(&s, 0, sizeof s);
                    {{fill}}
                    const unsigned char *p = (const unsigned char *)&s;
                    for (size_t i = 0; i < sizeof s; i++) printf("%02x", p[i]);
                    return 0;
                }
                """);
            if (!Run("cc", $"-w -o {exe} {src}", out _))
                throw new InvalidOperationException(CompilerPresent ? $"cc could not compile {type}" : "no C compiler (cc): CI must have one (build.sh --deps installs gcc)");
            if (!Run(exe, "", out var hex)) throw new InvalidOperationException("struct program failed");
            return Convert.FromHexString(hex.Trim());
        }
        finally
        {
            dir.Delete(true);
        }
    }

    private static bool Run(string file, string args, out string stdout)
    {
        stdout = "";
        try
        {
            using var p = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true })!;
            stdout = p.StandardOutput.ReadToEnd();
            p.StandardError.ReadToEnd();
            p.WaitForExit();
            return p.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false; // no compiler on this machine
        }
    }
}
