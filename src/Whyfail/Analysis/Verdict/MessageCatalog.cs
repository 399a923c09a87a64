using Whyfail.Analysis.Explain;
using Whyfail.Events;

namespace Whyfail.Analysis.Verdict;

/// <summary>
/// A translation catalog looked up for a message (gettext's <c>…/LC_MESSAGES/DOMAIN.mo</c>), opened for reading and
/// absent: gettext then returns the text untranslated, so the program goes on exactly as with a catalog. It is looked up
/// when a message is about to be written, often the program's last words before a bad end (make's "No targets specified
/// and no makefile found"), where it was taken for "the last failure the program did not recover from". Strong: what the
/// program did next does not matter.
/// </summary>
public sealed class MessageCatalog : IRoutinePattern
{
    public bool Strong => true;

    private static readonly Routine Catalog = new("probe", "message catalogs",
        "a translation catalog looked up for a message: without it the message is written untranslated");

    public Routine? Judge(Tracked t, ProcessTrack process)
    {
        var ev = t.Event;
        if (!RoutinePatterns.IsAbsent(ev.Errno) || SyscallArgs.OpenFlags(ev) is not { } flags || !SyscallArgs.ReadsOnly(flags)) return null;
        return t.Subject is { Path: { } path, Name: { } name } && name.EndsWith(".mo", StringComparison.Ordinal) && name.Length > 3 &&
            path.EndsWith("/LC_MESSAGES/" + name, StringComparison.Ordinal)
            ? Catalog
            : null;
    }
}
