using Whyfail.Decoding;

namespace Whyfail.Events;

/// <summary>A signal sent to the thread while the call ran (signal:signal_generate).</summary>
public sealed class SignalEvidence(int sig, int senderPid, int result, ulong saFlags) : Evidence
{
    public const ulong SA_RESTART = 0x10000000;
    // TRACE_SIGNAL_* results of signal_generate
    private static readonly string[] Results = ["delivered", "ignored", "already pending", "overflow", "info lost"];

    public int Signal { get; } = sig;
    public int SenderPid { get; } = senderPid;
    public int Result { get; } = result;
    public ulong SaFlags { get; } = saFlags;
    public bool Restart => (SaFlags & SA_RESTART) != 0;
    public string SignalName => Signals.Name(Signal) ?? $"signal {Signal}";
    public string ResultText => Result >= 0 && Result < Results.Length ? Results[Result] : $"result {Result}";

    public override string Kind => "signal";

    public override string Text =>
        $"{SignalName} from pid {SenderPid} ({ResultText}); its handler {(Restart ? "has" : "does not have")} SA_RESTART";

    public override IEnumerable<EvidenceField> Fields =>
    [
        EvidenceField.Of("signal", SignalName),
        EvidenceField.Of("signo", Signal),
        EvidenceField.Of("sender_pid", SenderPid),
        EvidenceField.Of("result", ResultText),
        EvidenceField.Of("sa_restart", Restart),
    ];
}
