using Whyfail.Decoding;

namespace Whyfail.Events;

/// <summary>A signal sent to the thread while the call ran (signal:signal_generate).</summary>
/// <param name="pendingBefore">Not sent while the call ran: sent before (while blocked) and found pending at its exit.</param>
/// <param name="handler">The thread's sa_handler for the signal at the call's exit (SIG_DFL, SIG_IGN or an address),
/// null when the kernel side could not read it.</param>
public sealed partial class SignalEvidence(int sig, int senderPid, int result, ulong saFlags, bool pendingBefore = false, ulong? handler = null) : Evidence
{
    // SA_RESTART, SIG_DFL, SIG_IGN: SignalEvidence.g.cs (tools/gen-xlat, from the headers)
    // TRACE_SIGNAL_* results of signal_generate
    private static readonly string[] Results = ["delivered", "ignored", "already pending", "overflow", "info lost"];

    public int Signal { get; } = sig;
    public int SenderPid { get; } = senderPid;
    public int Result { get; } = result;
    public ulong SaFlags { get; } = saFlags;
    public bool Restart => (SaFlags & SA_RESTART) != 0;
    /// <summary>sa_handler at the call's exit, read by the kernel side; null when unknown.</summary>
    public ulong? Handler { get; } = handler;
    /// <summary>Whether a handler runs for the signal (neither SIG_DFL nor SIG_IGN); null when the handler is unknown.</summary>
    public bool? Catches => Handler is { } h ? h != SIG_DFL && h != SIG_IGN : null;
    private string HandlerText => Catches switch
    {
        false => Handler == SIG_IGN ? "ignored (SIG_IGN)" : "no handler (default action)",
        _ => $"its handler {(Restart ? "has" : "does not have")} SA_RESTART",
    };
    /// <summary>Sent before the call (while blocked) and pending when it ended: the kernel side found it at the call's
    /// exit, so its sender is not known (<see cref="SenderPid"/> is 0).</summary>
    public bool PendingBefore { get; } = pendingBefore;
    /// <summary>A signal this call's end is about: delivered while it ran, or pending from before.</summary>
    public bool Interrupts => Result == 0 || PendingBefore;
    /// <summary>"SIGUSR1 from pid 42", or "SIGUSR1 (sent before the call)" when the sender is not known.</summary>
    public string Who => PendingBefore ? $"{SignalName} (sent before the call, pending)" : $"{SignalName} from pid {SenderPid}";
    public string SignalName => Signals.Name(Signal) ?? $"signal {Signal}";
    public string ResultText => PendingBefore ? "sent before the call, pending at its exit" : Result >= 0 && Result < Results.Length ? Results[Result] : $"result {Result}";

    public override string Kind => "signal";

    public override string Text =>
        PendingBefore
            ? $"{SignalName} ({ResultText}); {HandlerText}"
            : $"{SignalName} from pid {SenderPid} ({ResultText}); {HandlerText}";

    public override IEnumerable<EvidenceField> Fields =>
    [
        EvidenceField.Of("signal", SignalName),
        EvidenceField.Of("signo", Signal),
        EvidenceField.Of("sender_pid", SenderPid),
        EvidenceField.Of("result", ResultText),
        EvidenceField.Of("sa_restart", Restart),
        EvidenceField.Of("handler", Handler switch { null => "unknown", SIG_DFL => "SIG_DFL", SIG_IGN => "SIG_IGN", var h => $"0x{h:x}" }),
    ];
}
