using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Whyfail;

/// <summary>
/// The one way whyfail reads a resource embedded in its image (the BPF objects, Decoding/Data's tables): where it lies
/// in the image (read-only, mapped from the file), not copied. A copy made once per read was fresh heap pages at every
/// start: whyfail.bpf.o's 255 KiB were ~64 page faults (bench/README "Start-up, session 15"). Only when the runtime gives
/// no pointer to the resource is it copied, into pinned memory; either way the bytes stay where they are for the whole
/// process, so a caller may keep their address (<see cref="Address"/>).
/// </summary>
internal static unsafe class EmbeddedResource
{
    /// <summary>The bytes of the resource <paramref name="name"/> (its LogicalName in Whyfail.csproj); false when it is missing.</summary>
    public static bool TryGet(string name, out ReadOnlySpan<byte> bytes)
    {
        using var s = typeof(EmbeddedResource).Assembly.GetManifestResourceStream(name);
        if (s is UnmanagedMemoryStream { PositionPointer: var p } u && u.Position == 0 && u.Length <= int.MaxValue)
        {
            bytes = new ReadOnlySpan<byte>(p, (int)u.Length);
            return true;
        }
        if (s is null)
        {
            bytes = default;
            return false;
        }
        var copy = GC.AllocateUninitializedArray<byte>(checked((int)s.Length), pinned: true);
        s.ReadExactly(copy);
        bytes = copy;
        return true;
    }

    /// <summary>The bytes of a resource the build always embeds; a missing one is a broken build.</summary>
    public static ReadOnlySpan<byte> Get(string name) =>
        TryGet(name, out var bytes) ? bytes : throw new InvalidOperationException($"embedded resource {name} is missing");

    /// <summary>Where bytes <see cref="TryGet"/> gave lie (they never move): for a caller that keeps them past one call.</summary>
    public static nint Address(ReadOnlySpan<byte> bytes) => (nint)Unsafe.AsPointer(ref MemoryMarshal.GetReference(bytes));
}
