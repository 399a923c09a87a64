using System.Reflection;
using System.Runtime.Loader;
using Whyfail.Capture;
using Whyfail.Decoding;
using Whyfail.Events;
using Xunit;
using static Whyfail.Tests.Decoding.Kit;

namespace Whyfail.Tests.Decoding;

/// <summary>
/// The decoder families are registered when one of their calls is first decoded (issue 16: the warm-up before the command's
/// release registered all 35): a call decodes the same whichever families are registered before it, and a first decode
/// registers only the families the build-time table names for it.
/// </summary>
public class FamilyRegistrationTests
{
    private const BindingFlags Internal = BindingFlags.NonPublic | BindingFlags.Public | BindingFlags.Static;

    [Fact]
    public void EveryCallDecodesTheSameFromItsOwnFamiliesAsFromAll()
    {
        // In this process other tests register families in any order: the table's families and every family must give
        // each call the same decoder and the same capture spec.
        var families = Decoder.FamiliesByCall();
        Assert.NotEmpty(families);
        var all = Decoder.CaptureSpecs().ToDictionary(s => s.Nr, s => s.Spec);
        for (int nr = 0; nr < SyscallTable.MaxNr; nr++)
        {
            Assert.Equal(families.GetValueOrDefault(nr), CaptureTable.FamiliesOf(nr));
            var spec = Decoder.CaptureSpecFor(nr);
            var fromAll = all.GetValueOrDefault(nr);
            Assert.Equal(fromAll?.ToString() + fromAll?.FdArgs, spec?.ToString() + spec?.FdArgs);
        }
        // Most calls belong to one family (FamiliesByCall throws when two families decode one call).
        Assert.Contains(families.Values, m => m != 0 && (m & (m - 1)) == 0);
    }

    [Fact]
    public void FirstDecodeInAFreshProcessRegistersOnlyItsFamily()
    {
        // A fresh copy of whyfail's assembly (its own static state: no family registered), as a new whyfail process has.
        var context = new AssemblyLoadContext("fresh decoder", isCollectible: true);
        try
        {
            var asm = context.LoadFromAssemblyPath(typeof(Decoder).Assembly.Location);
            var decoder = asm.GetType(typeof(Decoder).FullName!)!;
            var registered = decoder.GetMethod(nameof(Decoder.FamiliesRegistered), Internal)!;
            Assert.Empty((IReadOnlyList<int>)registered.Invoke(null, null)!);

            var path = "/nonexistent/x"u8.ToArray();
            ulong[] args = [AtFdcwd, 0x1000, 0x80000, 0, 0, 0];
            var ev = Activator.CreateInstance(asm.GetType(typeof(SyscallEvent).FullName!)!)!;
            var kind = Enum.ToObject(asm.GetType(typeof(CaptureKind).FullName!)!, (int)CaptureKind.String);
            var captured = Activator.CreateInstance(asm.GetType(typeof(CapturedArg).FullName!)!, 1, kind, 0, path, path.Length, false)!;
            var list = Array.CreateInstance(captured.GetType(), 1);
            list.SetValue(captured, 0);
            ev.GetType().GetProperty(nameof(SyscallEvent.Nr))!.SetValue(ev, Nr("openat"));
            ev.GetType().GetProperty(nameof(SyscallEvent.Ret))!.SetValue(ev, -2L);
            ev.GetType().GetProperty(nameof(SyscallEvent.Args))!.SetValue(ev, args);
            ev.GetType().GetProperty(nameof(SyscallEvent.Captured))!.SetValue(ev, list);

            var decoded = (string[])decoder.GetMethod(nameof(Decoder.DecodeUnguarded), Internal)!.Invoke(null, [ev, 32])!;
            Assert.Equal(["AT_FDCWD", "\"/nonexistent/x\"", "O_RDONLY|O_CLOEXEC"], decoded);
            // Only openat's family: the others' tables are not read.
            var mask = CaptureTable.FamiliesOf(Nr("openat"));
            var expected = Enumerable.Range(0, 64).Where(i => (mask & (1UL << i)) != 0).ToList();
            Assert.Single(expected);
            Assert.Equal(expected, (IReadOnlyList<int>)registered.Invoke(null, null)!);
            // This process's decoder (families registered in any order) says the same.
            var here = new SyscallEvent { Nr = Nr("openat"), Ret = -2, Args = args, Captured = [new CapturedArg(1, CaptureKind.String, 0, path, path.Length)] };
            Assert.Equal(Raw(here), decoded);
        }
        finally
        {
            context.Unload();
        }
    }
}
