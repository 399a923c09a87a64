namespace Whyfail.Decoding;

/// <summary>Renders the arguments of one call.</summary>
internal delegate string[] DecodeFn(Call c);

/// <summary>What the families register: per system call name, a decoder and/or capture changes.</summary>
internal sealed class Registry
{
    public Dictionary<string, DecodeFn> Decoders { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, List<Action<CaptureSpec>>> Captures { get; } = new(StringComparer.Ordinal);

    /// <summary>Registers a decoder (and optionally what to capture) for one or more calls.</summary>
    public void Add(string names, DecodeFn decode, Action<CaptureSpec>? capture = null)
    {
        foreach (var name in names.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            Check(name);
            if (!Decoders.TryAdd(name, decode))
                throw new InvalidOperationException($"two decoders for {name}");
            if (capture is not null) Capture(name, capture);
        }
    }

    /// <summary>Changes what is captured for calls whose arguments the default notation handles.</summary>
    public void Capture(string names, Action<CaptureSpec> capture)
    {
        foreach (var name in names.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            Check(name);
            if (!Captures.TryGetValue(name, out var list)) Captures[name] = list = [];
            list.Add(capture);
        }
    }

    private static void Check(string name)
    {
        if (!SyscallTable.TryGetNumber(name, out _))
            throw new InvalidOperationException($"decoder registered for unknown system call {name}");
    }
}
