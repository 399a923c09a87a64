using Whyfail.Capture;
using Whyfail.Capture.Native;
using Xunit;

namespace Whyfail.Tests.Capture;

/// <summary>A fact that changes a thread's nice value below its own: root (CAP_SYS_NICE).</summary>
public sealed class FactRaisingPriorityAttribute : FactAttribute
{
    public FactRaisingPriorityAttribute()
    {
        if (Libc.GetEuid() != 0) Skip = "raises a thread's priority: needs root (CAP_SYS_NICE)";
    }
}

/// <summary>
/// The ring reader's priority (<see cref="ReaderPriority"/>): raised by 20 nice steps (to -20 from whyfail's usual 0) once a quarter of the ring waits,
/// back once less than a sixteenth does, and only on the thread that reads. Each case runs on a thread of its own (a
/// nice value is a thread's), which ends at its own priority.
/// </summary>
public class ReaderPriorityTests
{
    private const long Ring = 16 << 20;
    private static readonly int PrioProcess = (int)Whyfail.Decoding.Xlat.Table("priority_which")["PRIO_PROCESS"];

    private static int Nice() => Libc.GetPriority(PrioProcess, (uint)Libc.GetTid());

    private static void OnThread(Action body)
    {
        Exception? failed = null;
        var t = new Thread(() =>
        {
            try { body(); }
            catch (Exception e) { failed = e; }
        });
        t.Start();
        t.Join();
        if (failed != null) throw new Xunit.Sdk.XunitException(failed.ToString());
    }

    [FactRaisingPriority]
    public void FallingBehindRaisesTheReaderAndCatchingUpLowersIt()
    {
        OnThread(() =>
        {
            int before = Nice();
            var p = ReaderPriority.Create(null)!;
            p.Follow(Ring / 8, Ring);            // an eighth waiting: keeping up
            Assert.Equal(before, Nice());
            p.Follow(Ring / 4 + 1, Ring);        // over a quarter: behind
            Assert.Equal(Math.Max(-20, before - 20), Nice());
            Assert.Equal(1, p.Raised);
            p.Follow(Ring / 8, Ring);            // between: stays raised (no back and forth at one threshold)
            Assert.Equal(Math.Max(-20, before - 20), Nice());
            p.Follow(Ring / 16 - 1, Ring);       // caught up
            Assert.Equal(before, Nice());
            p.Follow(Ring, Ring);                // behind again
            Assert.Equal(2, p.Raised);
            p.AtRest();                          // the loop's end
            Assert.Equal(before, Nice());
        });
    }

    [FactRaisingPriority]
    public void TheReaderStartsFromWhyfailsOwnNiceValue()
    {
        OnThread(() =>
        {
            uint tid = (uint)Libc.GetTid();
            Assert.Equal(0, Libc.SetPriority(PrioProcess, tid, 5)); // whyfail run under `nice -n 5`
            var p = ReaderPriority.Create(null)!;
            p.Follow(Ring, Ring);
            Assert.Equal(-15, Nice());
            p.AtRest();
            Assert.Equal(5, Nice());
        });
    }

    [Fact]
    public void ZeroStepsNeverRaises() => Assert.Null(ReaderPriority.Create("0"));
}
