using System.Runtime.InteropServices;
using Whyfail.Capture;
using Whyfail.Capture.Bpf;
using Xunit;

namespace Whyfail.Tests.Capture;

/// <summary>
/// "Same context as before" on the parser side: a record whose context is a base (wf_context.seq != 0) is kept for its
/// thread, and a later wf_ctx_ref (WF_EVF_CONTEXT_SAME) of that thread and seq gets that very context; a reference
/// to a seq or thread not seen gets none (never another context). Records built with the generated layout.
/// </summary>
public unsafe class ContextReferenceTests
{
    private static byte[] Record(int tid, ushort flags, byte[] section)
    {
        var h = new WfEvent { Type = WfConst.RecSyscall, Nr = 257, Ret = -2, Tgid = (uint)tid, Tid = (uint)tid, Flags = flags };
        h.Size = (uint)(WfEvent.SizeOf + section.Length);
        var b = new byte[h.Size];
        MemoryMarshal.Write(b, in h);
        section.CopyTo(b, WfEvent.SizeOf);
        return b;
    }

    private static byte[] Context(uint seq, uint umask)
    {
        var c = new WfContext { Size = (uint)WfContext.SizeOf, Seq = seq, Umask = umask, Uid = 1000 };
        var b = new byte[WfContext.SizeOf];
        MemoryMarshal.Write(b, in c);
        return b;
    }

    private static byte[] Reference(uint seq)
    {
        var r = new WfCtxRef { Size = (uint)WfCtxRef.SizeOf, Seq = seq };
        var b = new byte[WfCtxRef.SizeOf];
        MemoryMarshal.Write(b, in r);
        return b;
    }

    [Fact]
    public void AReferenceGetsItsThreadsBaseAndNothingElse()
    {
        const int tid = 910_001, other = 910_002;
        var base1 = EventParser.Parse(Record(tid, WfConst.EvfContext, Context(seq: 77, umask: 0x12)))!;
        Assert.Equal(0x12u, base1.Context!.Umask);
        // a context that is not a base (seq 0: it had descriptor records) does not replace the base
        var whole = EventParser.Parse(Record(tid, WfConst.EvfContext, Context(seq: 0, umask: 0x3f)))!;
        Assert.Equal(0x3fu, whole.Context!.Umask);

        var same = EventParser.Parse(Record(tid, WfConst.EvfContextSame, Reference(77)))!;
        Assert.Same(base1.Context, same.Context);

        long unknown = ContextParser.UnknownBases;
        Assert.Null(EventParser.Parse(Record(tid, WfConst.EvfContextSame, Reference(78)))!.Context);   // another seq
        Assert.Null(EventParser.Parse(Record(other, WfConst.EvfContextSame, Reference(77)))!.Context); // another thread
        Assert.Equal(unknown + 2, ContextParser.UnknownBases);

        // a new base replaces the thread's old one: the old seq is unknown from then on
        var base2 = EventParser.Parse(Record(tid, WfConst.EvfContext, Context(seq: 79, umask: 0x7)))!;
        Assert.Same(base2.Context, EventParser.Parse(Record(tid, WfConst.EvfContextSame, Reference(79)))!.Context);
        Assert.Null(EventParser.Parse(Record(tid, WfConst.EvfContextSame, Reference(77)))!.Context);
    }
}
