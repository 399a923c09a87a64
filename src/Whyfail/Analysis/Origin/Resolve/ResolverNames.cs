using Whyfail.Events;

namespace Whyfail.Analysis.Origin.Resolve;

/// <summary>Names for raw origin records and stack addresses, from the session's resolver and kernel symbols.</summary>
public sealed class ResolverNames(OriginResolver resolver, IKernelSymbols symbols) : IKernelNames
{
    public string Origin(OriginRecord record) => resolver.Name(record);

    public string Address(ulong address) =>
        symbols.Lookup(address, out ulong offset) is { } name ? $"{name}+0x{offset:x}" : $"0x{address:x}";
}
