namespace Whyfail.Events;

/// <summary>
/// What a failure led to (the verdict): the message the program printed about it (its first line, as
/// written: untrusted), how long after the failure, and the exit status it explains when it was the last
/// failure its process did not recover from before ending badly.
/// </summary>
public sealed class Consequence
{
    public string? Message { get; set; }
    public ulong MessageDelayNs { get; set; }
    /// <summary>Which process printed the message (its comm).</summary>
    public string? MessageBy { get; set; }
    /// <summary>The process's end this failure explains: exit status, or null.</summary>
    public int? Exit { get; set; }
    /// <summary>The fatal signal this failure preceded, or 0.</summary>
    public int Signal { get; set; }
}
