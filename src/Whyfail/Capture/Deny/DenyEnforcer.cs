using System.Runtime.InteropServices;
using System.Text;
using Whyfail.Capture.Deny.Bpf;
using Whyfail.Capture.Native;
using Whyfail.Events;

namespace Whyfail.Capture.Deny;

/// <summary>
/// The kernel side of `whyfail deny`: deny.bpf.o's BPF LSM programs for the hooks the rules need, the rules in its
/// map, its ring buffer of refusals and its per-rule counters. The links are whyfail's own descriptors, never pinned
/// and never handed to the <see cref="LinkReaper"/>: when whyfail exits, however it exits (SIGKILL included), the
/// kernel drops them and nothing is refused any more.
/// </summary>
public sealed unsafe class DenyEnforcer : IDisposable
{
    private readonly BpfObject _bpf;
    private readonly IReadOnlyList<DenyRule> _rules;
    private nint _ring;
    private GCHandle _self;
    private int _countsFd;
    private Exception? _callbackError;

    /// <summary>Receives each refusal, on the thread that calls <see cref="Consume"/>.</summary>
    public Action<Denial>? OnRefusal { get; set; }

    /// <summary>The hooks enforced, in attach order.</summary>
    public IReadOnlyList<DenyHook> Hooks { get; }

    /// <summary>Whether the programs are attached (refusing) now.</summary>
    public bool Enforcing { get; private set; }

    private DenyEnforcer(BpfObject bpf, IReadOnlyList<DenyRule> rules, IReadOnlyList<DenyHook> hooks)
    {
        _bpf = bpf;
        _rules = rules;
        Hooks = hooks;
    }

    /// <summary>
    /// Loads the programs for <paramref name="rules"/> (the verifier checks them now) and fills the rules map, without
    /// attaching: nothing is refused before <see cref="Attach"/>. Throws (exit code 4) with the precise reason where
    /// BPF LSM is unavailable.
    /// </summary>
    public static DenyEnforcer Load(IReadOnlyList<DenyRule> rules)
    {
        if (rules.Count == 0 || rules.Count > DenyRule.MaxRules)
            throw new WhyfailException($"whyfail deny takes 1 to {DenyRule.MaxRules} rules, not {rules.Count}", ExitCodes.Usage);
        KernelChecks.RequireBpf();
        var status = BpfLsm.Read();
        if (status.Unavailable is { } why)
            throw new WhyfailException($"whyfail deny cannot refuse anything on this kernel: {why}. {BpfLsm.NoFallback}", ExitCodes.KernelUnsupported);

        var hooks = DenyHooks.All.Where(h => rules.Any(r => r.Hooks.Contains(h))).ToList();
        var bpf = BpfObject.Open(BpfObject.Embedded("deny.bpf.o"));
        try
        {
            bpf.SetRodata(new WfdConfig { SelfTgid = (uint)Environment.ProcessId, NRules = (uint)rules.Count }, BpfMaps.RodataDcfgOffset);
            foreach (var h in DenyHooks.All)
                bpf.SetAutoload(DenyHooks.Program(h), hooks.Contains(h));
            try
            {
                bpf.Load();
            }
            catch (WhyfailException e)
            {
                throw new WhyfailException($"whyfail deny cannot refuse anything on this kernel: the kernel refused to load its BPF LSM programs ({LoadError(e)}); {status.Describe()}. {BpfLsm.NoFallback}",
                    ExitCodes.KernelUnsupported, e.Detail);
            }
            var enforcer = new DenyEnforcer(bpf, rules, hooks);
            enforcer.Fill();
            return enforcer;
        }
        catch
        {
            bpf.Dispose();
            throw;
        }
    }

    private static string LoadError(WhyfailException e) =>
        e.ExitCode == ExitCodes.NoPermission ? "EPERM, Operation not permitted, although whyfail has CAP_BPF/CAP_SYS_ADMIN" : e.Message;

    private void Fill()
    {
        int fd = _bpf.MapFd(BpfMaps.Rules);
        foreach (var r in _rules)
        {
            var v = Encode(r);
            uint key = (uint)(r.Number - 1);
            if (Libbpf.MapUpdateElem(fd, &key, &v, 0) < 0)
                throw new WhyfailException($"could not store deny rule {r.Number}: {Libc.ErrorText(Marshal.GetLastPInvokeError())}", ExitCodes.Internal);
        }
        _countsFd = _bpf.MapFd(BpfMaps.Counts);
        _self = GCHandle.Alloc(this);
        _ring = Libbpf.RingBufferNew(_bpf.MapFd(BpfMaps.Refusals), &OnSample, GCHandle.ToIntPtr(_self), 0);
        if (_ring == 0)
            throw new WhyfailException($"could not open the deny ring buffer: {Libc.ErrorText(Marshal.GetLastPInvokeError())}", ExitCodes.KernelUnsupported);
    }

    /// <summary>The rule as the kernel side reads it (struct wfd_rule).</summary>
    internal static WfdRule Encode(DenyRule r)
    {
        var v = new WfdRule { What = (uint)r.What, Err = r.Errno, UsersMode = (uint)r.Users, NUsers = (uint)r.Uids.Count, Port = (uint)r.Port };
        for (int i = 0; i < r.Uids.Count && i < WfdRule.Layout.UsersCount; i++) v.Users[i] = r.Uids[i];
        if (r.Comm is { } comm)
        {
            var b = Encoding.UTF8.GetBytes(comm);
            v.CommLen = (uint)b.Length;
            for (int i = 0; i < b.Length && i < WfdRule.Layout.CommCount - 1; i++) v.Comm[i] = b[i];
        }
        if (r.Pattern is { } pattern)
        {
            var g = Glob.Compile(pattern);
            for (int c = 0; c < 256; c++) v.Glob.Accept[c] = g.Accept[c];
            v.Glob.Star = g.Star;
            v.Glob.Globstar = g.GlobStar;
            v.Glob.Jump = g.Jump;
            v.Glob.Start = g.Start;
            v.Glob.Final = g.Final;
        }
        return v;
    }

    /// <summary>Attaches every program: from now on the rules refuse.</summary>
    public void Attach()
    {
        foreach (var h in Hooks)
            _bpf.Attach(DenyHooks.Program(h));
        Enforcing = true;
    }

    /// <summary>Detaches every program: nothing is refused any more. The counters and the ring buffer stay readable.</summary>
    public void Detach()
    {
        _bpf.DetachAll();
        Enforcing = false;
    }

    /// <summary>Delivers the refusals waiting in the ring buffer to <see cref="OnRefusal"/>.</summary>
    public int Consume()
    {
        if (_ring == 0) return 0;
        int n = Libbpf.RingBufferConsume(_ring);
        if (_callbackError is { } e)
        {
            _callbackError = null;
            throw new WhyfailException($"processing a refusal failed: {e.Message}", ExitCodes.Internal, e.ToString());
        }
        return Math.Max(n, 0);
    }

    /// <summary>Refusals counted in the kernel per rule (index = rule number - 1), and those the ring buffer had no room for.</summary>
    public (ulong[] PerRule, ulong Lost) Counts()
    {
        var per = new ulong[_rules.Count];
        for (int i = 0; i < per.Length; i++) per[i] = Count((uint)i);
        return (per, Count(WfdConst.CountLost));
    }

    private ulong Count(uint key)
    {
        ulong v = 0;
        return Libbpf.MapLookupElem(_countsFd, &key, &v) < 0 ? 0 : v;
    }

    public void Dispose()
    {
        if (_ring != 0)
        {
            Libbpf.RingBufferFree(_ring);
            _ring = 0;
        }
        _bpf.Dispose();
        if (_self.IsAllocated) _self.Free();
    }

    /// <summary>A struct wfd_event as a <see cref="Denial"/>.</summary>
    internal Denial Parse(ReadOnlySpan<byte> record)
    {
        if (record.Length < WfdEvent.SizeOf) throw new FormatException($"refusal record of {record.Length} bytes, expected {WfdEvent.SizeOf}");
        var e = MemoryMarshal.Read<WfdEvent>(record);
        int index = (int)e.Rule;
        var rule = index >= 0 && index < _rules.Count ? _rules[index] : null;
        var hook = (DenyHook)e.Hook;
        string matched, subject;
        if (hook == DenyHook.SocketBind)
            (matched, subject) = (e.Port.ToString(), "port");
        else
        {
            int len = (int)Math.Min(e.Len, (uint)WfdEvent.Layout.TextCount);
            matched = Encoding.UTF8.GetString(record.Slice(WfdEvent.Layout.Text, len));
            subject = rule?.What == DenyWhat.Create ? "new name" : "path";
        }
        var comm = record.Slice(WfdEvent.Layout.Comm, WfdEvent.Layout.CommCount);
        int nul = comm.IndexOf((byte)0);
        return new Denial(e.TsNs, (int)e.Pid, (int)e.Tid, e.Euid, Encoding.UTF8.GetString(nul < 0 ? comm : comm[..nul]),
            index + 1, rule?.Text ?? $"#{index + 1}", DenyHooks.Name(hook), matched, subject, e.Err);
    }

    [UnmanagedCallersOnly]
    private static int OnSample(nint ctx, void* data, nuint size)
    {
        var self = (DenyEnforcer)GCHandle.FromIntPtr(ctx).Target!;
        try
        {
            self.OnRefusal?.Invoke(self.Parse(new ReadOnlySpan<byte>(data, (int)size)));
            return 0;
        }
        catch (Exception e)
        {
            self._callbackError = e;
            return -1;
        }
    }
}
