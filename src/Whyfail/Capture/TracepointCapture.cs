using System.Runtime.InteropServices;
using Whyfail.Capture.Bpf;
using Whyfail.Capture.Native;
using Whyfail.Capture.Origin;
using Whyfail.Events;

namespace Whyfail.Capture;

/// <summary>
/// The tracepoint backend: failing syscalls from tp_btf/sys_exit, processes followed through
/// sched_process_fork/exec, evidence from capability and signal tracepoints. Works on kernels
/// locked down in confidentiality mode. Events are delivered to <see cref="OnEvent"/> from
/// <see cref="Poll"/>.
/// </summary>
public sealed unsafe class TracepointCapture : IDisposable
{
    // The contract (WfConfig, WfCaptureSpec, WfConst, BpfPrograms, BpfMaps) is generated from the BPF object.
    internal const uint FlagTraced = WfConst.Traced, FlagArmedOnExec = WfConst.ArmedOnExec, FlagFollow = WfConst.Follow;
    /// <summary>Bytes of one --comm name in wf_config.comms (the kernel's TASK_COMM_LEN).</summary>
    private const int CommLen = WfConfig.Layout.CommsCount / WfConst.FilterComms;

    private readonly BpfObject _bpf = null!;
    private readonly CaptureOptions _options;
    private nint _ring;
    private GCHandle _self;
    private readonly int _statsFd, _seedsFd;
    private Exception? _callbackError;
    private long _yieldAt = long.MaxValue;

    /// <summary>Receives each event, on the thread that calls <see cref="Poll"/>.</summary>
    public Action<SyscallEvent>? OnEvent { get; set; }

    /// <summary>Receives the end of each traced thread group (--system: those that end with a non-zero status).</summary>
    public Action<ProcessExit>? OnExit { get; set; }

    /// <summary>Receives what traced tasks write to standard error (and standard output after a failure).</summary>
    public Action<MessageWrite>? OnMessage { get; set; }

    /// <summary>Kernel features this capture could not use (e.g. no cap_capable tracepoint), in plain words.</summary>
    public IReadOnlyList<string> Limitations { get; }

    /// <summary>Where capability denials come from (tracepoint, fexit or kprobes on cap_capable, or none and why).</summary>
    public CapabilitySource Capabilities { get; private set; }

    /// <summary>The origin probes, when a backend could attach some; null otherwise.</summary>
    public OriginAttacher? OriginProbes { get; private set; }

    /// <summary>The error-site kprobes (--pinpoint), when the kernel has kprobes; null otherwise.</summary>
    public SiteKprobes? SiteProbes { get; private set; }

    public TracepointCapture(CaptureOptions options)
    {
        _options = options;
        KernelChecks.RequireBpf();
        StartupTimes.Mark("privileges checked");
        var limitations = new List<string>();

        // Try the origin backends the kernel may allow, best first; without one, tracepoints alone.
        var candidates = new List<OriginBackend>();
        if (options.OriginFunctions.Count > 0)
        {
            if (options.OriginBackend is { } forced)
                candidates.Add(forced);
            else
            {
                candidates.AddRange(OriginBackends.Candidates(out var whyNone));
                if (whyNone != null) limitations.Add($"no kernel origins: {whyNone}; failures, evidence and explanations come from tracepoints");
            }
        }
        candidates.Remove(OriginBackend.None);
        candidates.Add(OriginBackend.None);
        StartupTimes.Mark("origin backends probed");
        var capCandidates = CapabilitySource.Candidates();
        Capabilities = capCandidates[0];
        StartupTimes.Mark("capability sources probed");
        foreach (var backend in candidates)
        {
            var capBefore = Capabilities;
            try
            {
                _bpf = LoadWithCapabilities(options, backend, capCandidates, limitations);
            }
            catch (WhyfailException e) when (backend != OriginBackend.None)
            {
                Capabilities = capBefore; // the origin program, not the capability one, was refused
                // The verifier's last word (the instruction it stopped at, its reason) says what to fix; the rest is noise here.
                var lines = e.Detail?.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(l => !l.StartsWith("--", StringComparison.Ordinal)).TakeLast(3).ToList();
                string? said = lines is { Count: > 0 } ? string.Join(" | ", lines) : null;
                limitations.Add($"origin backend {OriginBackends.Describe(backend)} refused by this kernel ({e.Message}{(said != null ? $"; libbpf: {said}" : "")})");
                continue;
            }
            StartupTimes.Mark("programs loaded");
            try
            {
                _statsFd = _bpf.MapFd(BpfMaps.Stats);
                _seedsFd = _bpf.MapFd(BpfMaps.Seeds);
                FillCaptureSpecs(_bpf.MapFd(BpfMaps.Capture), options.Captures);
                foreach (var prog in RequiredPrograms)
                    _bpf.Attach(prog);
                AttachEntryCopies(options.Captures, limitations);
                foreach (var (prog, tp, _) in OptionalTracepoints)
                    if (KernelChecks.HasTracepoint(tp))
                        _bpf.Attach(prog);
                AttachCapabilityFallback(limitations);
                foreach (var prog in UringPrograms)
                    _bpf.Attach(prog);
                StartupTimes.Mark("tracepoints attached");
                if (backend != OriginBackend.None)
                {
                    var origin = new OriginAttacher(backend, _bpf.Program(OriginAttacher.ProgramFor(backend)), options.OriginFunctions, options.OriginProgress, options.OriginUpFront,
                        EntryProgramFor(options, backend) is { } entry ? _bpf.Program(entry) : 0);
                    if (origin.Functions.Count == 0)
                    {
                        limitations.Add($"origin backend {OriginBackends.Describe(backend)}: the kernel refused every function ({origin.Refused.FirstOrDefault().Reason})");
                        origin.Dispose();
                    }
                    else
                        OriginProbes = origin;
                }
                if (PinpointLoads(options))
                    SiteProbes = new SiteKprobes(_bpf.Program(SiteKprobes.ProgramName));

                _self = GCHandle.Alloc(this);
                _ring = Libbpf.RingBufferNew(_bpf.MapFd(BpfMaps.Events), &OnSample, GCHandle.ToIntPtr(_self), 0);
                if (_ring == 0)
                    throw new WhyfailException($"could not open the BPF ring buffer: {Libc.ErrorText(Marshal.GetLastPInvokeError())}", ExitCodes.KernelUnsupported);
                _backlog = RingBacklog.Open(_bpf.MapFd(BpfMaps.Events), RingSize(options.RingBufferBytes));
            }
            catch
            {
                Dispose();
                throw;
            }
            break;
        }
        Limitations = limitations;
    }

    /// <summary>
    /// Loads the object with the current capability source; when the kernel refuses a fallback (fexit or
    /// kprobes on cap_capable), loads again with the next one, down to none.
    /// </summary>
    private BpfObject LoadWithCapabilities(CaptureOptions options, OriginBackend backend, IReadOnlyList<CapabilitySource> capCandidates, List<string> limitations)
    {
        while (true)
        {
            try
            {
                return LoadObject(options, backend, Capabilities, limitations);
            }
            catch (WhyfailException e) when (Capabilities.Kind is CapabilitySourceKind.Fexit or CapabilitySourceKind.Kprobe)
            {
                Capabilities = CapabilitySource.After(capCandidates, Capabilities, CapabilitySource.Reason(e));
            }
        }
    }

    /// <summary>
    /// The entry program on the syscalls:sys_enter_NAME tracepoint of each call whose argument is copied at entry too (the
    /// in/out structures the kernel writes back): those calls alone pay for an entry program, the others nothing.
    /// </summary>
    private void AttachEntryCopies(CaptureTable captures, List<string> limitations)
    {
        var missing = new List<string>();
        foreach (var (nr, name) in captures.EntryCalls())
        {
            if (name is null)
            {
                missing.Add($"syscall {nr}"); // a custom table's call the built-in one does not copy at entry: no tracepoint name
                continue;
            }
            try
            {
                _bpf.AttachTracepoint(BpfPrograms.OnSysEnterCall, "syscalls", "sys_enter_" + name);
            }
            catch (WhyfailException)
            {
                missing.Add(name);
            }
        }
        if (missing.Count > 0)
            limitations.Add($"no syscalls:sys_enter tracepoint for {string.Join(", ", missing)} in this kernel: their in/out arguments are shown as the kernel wrote them back");
    }

    /// <summary>The tracepoint is attached with the other tracepoints; a fallback here, or a note saying why there is none.</summary>
    private void AttachCapabilityFallback(List<string> limitations)
    {
        if (Capabilities.Kind is CapabilitySourceKind.Fexit or CapabilitySourceKind.Kprobe)
        {
            try
            {
                foreach (var prog in Capabilities.Programs)
                    _bpf.Attach(prog);
            }
            catch (WhyfailException e)
            {
                // The next source would need another object: go without, and say why.
                Capabilities = new(CapabilitySourceKind.None, $"{Capabilities.Name} on {CapabilitySource.Function} could not be attached ({e.Message})");
            }
        }
        if (Capabilities.Kind == CapabilitySourceKind.None)
            limitations.Add($"no capability evidence: {Capabilities.Detail}; denied capability checks are not shown as evidence");
    }

    /// <summary>The read-only configuration, with the filters the kernel can apply before building an event.</summary>
    private static unsafe WfConfig Config(CaptureOptions options)
    {
        var c = new WfConfig
        {
            TraceAll = options.TraceAll ? 1u : 0,
            ReportSuccess = options.ReportSuccess ? 1u : 0,
            SelfTgid = (uint)Environment.ProcessId,
            OriginArgs = options.OriginArgs ? 1u : 0,
            // The failure's context is read through kernel pointers, which lockdown=confidentiality refuses; and it is not
            // copied where nothing reads it (CaptureOptions.Context).
            ContextOff = !options.Context || SecurityFs.LockdownMode() == "confidentiality" ? 1u : 0,
        };
        (c.OwnRootMntId, c.OwnRootIno) = OwnRoot.Read();
        var cast = BtfAttachTargets.TaskCast();
        (c.TaskBtfId, c.MountBtfId, c.DentryBtfId) = ((uint)cast.Task, (uint)cast.Mount, (uint)cast.Dentry);
        if (options.Syscalls is { } syscalls)
        {
            c.FilterSyscalls = 1;
            foreach (int nr in syscalls)
                if (nr >= 0 && nr < WfConst.MaxSyscalls) c.SyscallMask[nr / 64] |= 1UL << (nr % 64);
        }
        if (options.Errnos is { } errnos)
        {
            c.FilterErrnos = 1;
            foreach (int e in errnos)
                if (e > 0 && e < WfConst.FilterErrnos) c.ErrnoMask[e / 64] |= 1UL << (e % 64);
        }
        // The kernel compares at most 8 names, each as the kernel keeps it (15 bytes and a NUL); a longer name
        // can match no process, and user space alone filters when there are more.
        var comms = options.Comms?.Select(System.Text.Encoding.UTF8.GetBytes).Where(b => b.Length < CommLen).ToList();
        if (comms != null && options.Comms!.Count <= WfConst.FilterComms && comms.Count > 0)
        {
            c.NComms = (uint)comms.Count;
            for (int i = 0; i < comms.Count; i++)
                for (int j = 0; j < comms[i].Length; j++)
                    c.Comms[i * CommLen + j] = comms[i][j];
        }
        // The verdict's inputs: which writes are messages, which getsockopt carries an error, which successes follow a failure.
        // Constants of the build-time table (CaptureTableTests checks them against the syscall and xlat tables): neither table is read here.
        c.NrWrite = CaptureTable.NrWrite;
        c.NrWritev = CaptureTable.NrWritev;
        c.NrPwrite64 = CaptureTable.NrPwrite64;
        c.NrGetsockopt = CaptureTable.NrGetsockopt;
        c.SolSocket = CaptureTable.SolSocket;
        c.SoError = CaptureTable.SoError;
        foreach (int nr in options.FollowUps)
            if (nr >= 0 && nr < WfConst.MaxSyscalls) c.FollowupMask[nr / 64] |= 1UL << (nr % 64);
        return c;
    }

    private static BpfObject LoadObject(CaptureOptions options, OriginBackend backend, CapabilitySource capabilities, List<string> limitations)
    {
        var bpf = BpfObject.Open(BpfObject.Embedded("whyfail.bpf.o"));
        StartupTimes.Mark("object opened");
        try
        {
            bpf.SetRodata(Config(options), BpfMaps.RodataCfgOffset);
            Libbpf.MapSetMaxEntries(bpf.Map(BpfMaps.Events), (uint)RingSize(options.RingBufferBytes));

            // Origin programs are loaded only for the backend being tried.
            foreach (var prog in OriginPrograms)
                bpf.SetAutoload(prog, backend != OriginBackend.None && prog == OriginAttacher.ProgramFor(backend));
            // --args with a kretprobe backend: its entry program and room for the arguments it keeps; else nothing.
            foreach (var prog in OriginEntryPrograms)
                bpf.SetAutoload(prog, prog == EntryProgramFor(options, backend));
            if (EntryProgramFor(options, backend) == null)
                Libbpf.MapSetMaxEntries(bpf.Map(BpfMaps.OriginEntries), 1);
            bpf.SetAutoload(SiteKprobes.ProgramName, PinpointLoads(options));
            bpf.SetAutoload(BpfPrograms.OnSysEnterCall, options.Captures.EntryCalls().Any());

            // Capability denials: the programs of the chosen source only (the tracepoint's is in OptionalTracepoints).
            foreach (var prog in CapabilitySource.AllPrograms.Except(OptionalTracepoints.Select(t => t.Program)))
                bpf.SetAutoload(prog, capabilities.Programs.Contains(prog));
            // The kprobe pair's arguments wait in cap_pending between entry and return: no room made (a preallocated
            // hash map, ~10 ms to create in the lab) for the other sources.
            if (capabilities.Kind != CapabilitySourceKind.Kprobe)
                Libbpf.MapSetMaxEntries(bpf.Map(BpfMaps.CapPending), 1);

            // Optional evidence sources: older kernels lack some tracepoints.
            foreach (var (prog, tp, what) in OptionalTracepoints)
            {
                if (!KernelChecks.HasTracepoint(tp))
                {
                    bpf.SetAutoload(prog, false);
                    if (prog == BpfPrograms.OnCapCapable)
                        continue; // the fallbacks' business: AttachCapabilityFallback says what is missing
                    if (backend == OriginBackend.None || !limitations.Any(l => l.Contains(tp)))
                        if (!limitations.Any(l => l.Contains($"no {tp} tracepoint")))
                            limitations.Add($"no {tp} tracepoint in this kernel: {what} are not shown as evidence");
                }
            }
            // io_uring completions with an error: the programs that fit this kernel's tracepoints, if any.
            var (uring, noUring) = _uringOff ? ([], "its programs were refused by this kernel") : UringCompletions.Choose();
            foreach (var prog in UringCompletions.AllPrograms)
                bpf.SetAutoload(prog, uring.Contains(prog));
            if (uring.Count == 0)
                Libbpf.MapSetMaxEntries(bpf.Map(BpfMaps.UringReqs), 1); // a preallocated LRU map no program uses
            if (noUring != null && !limitations.Any(l => l.StartsWith("no io_uring completions", StringComparison.Ordinal)))
                limitations.Add($"no io_uring completions: {noUring}; io_uring requests that fail are not shown");
            StartupTimes.Mark("object opened and configured");
            try
            {
                bpf.Load();
            }
            catch (WhyfailException) when (!BtfAttachTargets.CastDisabled && BtfAttachTargets.CastActive)
            {
                // Refused with the task's cast (a kernel whose kfunc is not what 6.2-6.18 have): never lose the capture
                // for it; the rest of this run loads through the trusted task pointer.
                bpf.Dispose();
                BtfAttachTargets.CastDisabled = true;
                return LoadObject(options, backend, capabilities, limitations);
            }
            catch (WhyfailException) when (bpf.CoreBtfPath != null && bpf.CoreRelocationFailed)
            {
                // The small BTF did not answer a relocation the kernel's BTF might: never lose the capture for it.
                bpf.Dispose();
                CoreBtf.Disabled = true;
                return LoadObject(options, backend, capabilities, limitations);
            }
            catch (WhyfailException) when (uring.Count > 0)
            {
                // Never lose the capture for io_uring's sake: load again without them.
                bpf.Dispose();
                _uringOff = true;
                return LoadObject(options, backend, capabilities, limitations);
            }
            UringPrograms = uring;
            return bpf;
        }
        catch
        {
            bpf.Dispose();
            throw;
        }
    }

    /// <summary>The io_uring completion programs loaded (see <see cref="UringCompletions"/>).</summary>
    private static IReadOnlyList<string> UringPrograms = [];
    private static bool _uringOff;

    private static bool PinpointLoads(CaptureOptions options) => options.Pinpoint && File.Exists(OriginBackends.KprobePmu);

    private static readonly string[] RequiredPrograms = [BpfPrograms.OnFork, BpfPrograms.OnExec, BpfPrograms.OnSysExit, BpfPrograms.OnProcessExit];
    internal static readonly string[] OriginPrograms = [BpfPrograms.OriginFexit, BpfPrograms.OriginKretprobeMulti, BpfPrograms.OriginKretprobe];
    private static readonly string[] OriginEntryPrograms = [BpfPrograms.OriginEntryMulti, BpfPrograms.OriginEntry];

    /// <summary>--args: the entry program that keeps a kretprobe backend's arguments until the return (fexit reads them at return).</summary>
    private static string? EntryProgramFor(CaptureOptions options, OriginBackend backend) => !options.OriginArgs ? null : backend switch
    {
        OriginBackend.KretprobeMulti => BpfPrograms.OriginEntryMulti,
        OriginBackend.Kretprobe => BpfPrograms.OriginEntry,
        _ => null,
    };

    /// <summary>--args: argument records waiting for their thread's syscall record (null without --args).</summary>
    private OriginArgsRecords? _originArgs;

    private static readonly (string Program, string Tracepoint, string What)[] OptionalTracepoints =
    [
        (BpfPrograms.OnCapCapable, "cap_capable", "denied capability checks"),
        (BpfPrograms.OnSignalGenerate, "signal_generate", "signals that interrupted a call"),
    ];

    private static int RingSize(int bytes)
    {
        int size = 4096;
        while (size < bytes && size < (1 << 30)) size <<= 1;
        return size;
    }

    /// <summary>
    /// The capture map's values, as they are in <paramref name="table"/> (already wf_capture_spec's layout): one batch update
    /// (kernels before 5.7 have no batch operations on array maps: one update per call there).
    /// </summary>
    private static void FillCaptureSpecs(int fd, CaptureTable table)
    {
        ReadOnlySpan<uint> keys = table.Keys;
        ReadOnlySpan<byte> values = table.Values;
        if (keys.Length == 0) return;
        if (values.Length != keys.Length * sizeof(WfCaptureSpec))
            throw new WhyfailException($"capture specs of {values.Length} bytes for {keys.Length} calls: not wf_capture_spec's {sizeof(WfCaptureSpec)} bytes each", ExitCodes.Internal);
        fixed (uint* k = keys)
        fixed (byte* v = values)
        {
            uint count = (uint)keys.Length;
            if (Libbpf.MapUpdateBatch(fd, k, v, &count, null) == 0) return;
            for (int i = 0; i < keys.Length; i++)
                if (Libbpf.MapUpdateElem(fd, k + i, v + i * sizeof(WfCaptureSpec), 0) < 0)
                    throw new WhyfailException($"could not configure argument capture for syscall {k[i]}: {Libc.ErrorText(Marshal.GetLastPInvokeError())}", ExitCodes.Internal);
        }
    }

    /// <summary>
    /// Starts tracing existing thread groups: every thread of each, and (with follow) every child
    /// they create from now on. With <paramref name="armOnExec"/> reporting starts at their next execve.
    /// </summary>
    public void Adopt(IEnumerable<int> tgids, bool armOnExec)
    {
        uint flags = (armOnExec ? FlagArmedOnExec : FlagTraced) | (_options.Follow ? FlagFollow : 0);
        var keys = tgids.ToList();
        foreach (var tgid in keys)
        {
            uint k = (uint)tgid;
            if (Libbpf.MapUpdateElem(_seedsFd, &k, &flags, 0) < 0)
                throw new WhyfailException($"could not register pid {tgid}: {Libc.ErrorText(Marshal.GetLastPInvokeError())}", ExitCodes.Internal);
        }
        // The fork hook consults the seeds too, so children forked while the iterator runs are not missed.
        _bpf.RunIterator(BpfPrograms.AdoptTasks);
    }

    /// <summary>Waits up to timeoutMs for events and delivers them. Returns the number delivered.</summary>
    public int Poll(int timeoutMs) => Poll(timeoutMs, -1, out _);

    /// <summary>
    /// Waits up to timeoutMs for events or for <paramref name="endFd"/> (a pidfd: readable once that process has
    /// exited; none when negative) and delivers the events there are. Returns the number delivered; <paramref name="ended"/>
    /// says that <paramref name="endFd"/> was readable, so that the end of a command is seen when it happens, not at the next timeout.
    /// </summary>
    /// <remarks>
    /// The ring buffer is read after every wait, woken or timed out: a record sent without a wake-up (wake_flag in
    /// whyfail.bpf.c) makes epoll report nothing, and libbpf's ring_buffer__poll reads only the rings epoll reported,
    /// so a failure that came within a wake period of the last wake-up, after the reader had gone back to sleep, would
    /// wait for the next failure's wake-up: in -p and --system sessions on a quiet machine, forever. Read at the timeout,
    /// it waits at most one wait.
    /// </remarks>
    public int Poll(int timeoutMs, int endFd, out bool ended)
    {
        var fds = stackalloc Libc.PollFd[2];
        fds[0] = new Libc.PollFd { Fd = Libbpf.RingBufferEpollFd(_ring), Events = Libc.POLLIN };
        fds[1] = new Libc.PollFd { Fd = endFd, Events = Libc.POLLIN }; // poll(2) skips a negative descriptor
        _ringStats?.Waiting();
        if (Libc.Poll(fds, 2, timeoutMs) < 0 && Marshal.GetLastPInvokeError() != Errnos.EINTR)
            throw new WhyfailException($"waiting for events failed: {Libc.ErrorText(Marshal.GetLastPInvokeError())}", ExitCodes.Internal);
        ended = endFd >= 0 && fds[1].Revents != 0;
        if (_backlog is { } b)
        {
            long waiting = b.Bytes;
            _ringStats?.Waited(fds[0].Revents != 0, waiting, b.Size);
            _priority?.Follow(waiting, b.Size);
        }
        // libbpf consumes until the ring buffer is empty: under a flood that never empties it (a --system session
        // slower than the machine's failures) it would never return, and the session would never see SIGTERM or
        // SIGHUP or refresh its metrics. Delivery yields (as EINTR) once the deadline has passed.
        _yieldAt = Environment.TickCount64 + timeoutMs + 100;
        int n = Libbpf.RingBufferConsume(_ring);
        _yieldAt = long.MaxValue;
        RethrowCallbackError();
        if (n < 0 && -n != Errnos.EINTR)
            throw new WhyfailException($"reading the BPF ring buffer failed: {Libc.ErrorText(-n)}", ExitCodes.Internal);
        return Math.Max(n, 0);
    }

    private RingBacklog? _backlog;

    /// <summary>Raises the reader while it falls behind a flood (checked at each wait and every <see cref="PriorityCheckEvery"/> records).</summary>
    private readonly ReaderPriority? _priority = ReaderPriority.Create(Environment.GetEnvironmentVariable("WHYFAIL_READER_NICE"));
    private const int PriorityCheckEvery = 1024;
    private int _untilPriorityCheck = PriorityCheckEvery;

    /// <summary>The reader back at whyfail's own priority: the loop ends (what it starts next must not inherit a raised one).</summary>
    public void ReaderAtRest() => _priority?.AtRest();

    /// <summary>WHYFAIL_RING_STATS=1 (a measuring aid): how the reader waited and how full the ring was when it woke, printed at the end.</summary>
    private readonly RingStats? _ringStats = Environment.GetEnvironmentVariable("WHYFAIL_RING_STATS") == "1" ? new() : null;

    /// <summary>
    /// The share of the ring buffer waiting to be read (0 to 1), or 0 when the kernel would not map its
    /// positions: how close whyfail is to losing events.
    /// </summary>
    public double Backlog => _backlog is { } b ? (double)b.Bytes / b.Size : 0;

    /// <summary>
    /// The ring buffer can take a millisecond of any flood (it holds at least 4 MiB and is under an eighth full): the reader
    /// may wait that long before reading it again after a flood's batch (the polling loop). False when its positions cannot be read.
    /// </summary>
    public bool RoomForANap => _backlog is { } b && b.Size >= 4 << 20 && b.Bytes < b.Size / 8;

    /// <summary>Delivers everything already in the ring buffer without waiting.</summary>
    public int Drain()
    {
        int n = Libbpf.RingBufferConsume(_ring);
        RethrowCallbackError();
        return Math.Max(n, 0);
    }

    private void RethrowCallbackError()
    {
        if (_callbackError is { } e)
        {
            _callbackError = null;
            throw new WhyfailException($"processing an event failed: {e.Message}", ExitCodes.Internal, e.ToString());
        }
    }

    public CaptureStats Stats
    {
        get
        {
            ulong Sum(uint idx)
            {
                int ncpu = Environment.ProcessorCount;
                int possible = KernelChecks.PossibleCpus();
                var vals = new ulong[Math.Max(ncpu, possible)];
                fixed (ulong* p = vals)
                    if (Libbpf.MapLookupElem(_statsFd, &idx, p) < 0) return 0;
                ulong s = 0;
                foreach (var v in vals) s += v;
                return s;
            }
            return new CaptureStats(Sum(WfConst.StatReported), Sum(WfConst.StatLostEvents), Sum(WfConst.StatLostEvidence));
        }
    }

    /// <summary>The descriptor of the task-storage map that says which tasks are traced (probe.bpf.o reuses it).</summary>
    internal int TasksMapFd => _bpf.MapFd(BpfMaps.Tasks);

    /// <summary>BPF programs attached now (tracepoints, evidence; origin and site probes are counted by their owners).</summary>
    public int AttachedPrograms => _bpf?.AttachedCount ?? 0;

    /// <summary>WHYFAIL_REAP_TRACEPOINTS=0 (a measuring aid): the session's end closes the tracepoints' links itself, as before.</summary>
    private static readonly bool HandOffTracepointsOff = Environment.GetEnvironmentVariable("WHYFAIL_REAP_TRACEPOINTS") == "0";

    /// <summary>The link reaper that holds the probes detached by <see cref="Detach"/> (null: none was needed, or whyfail closed them itself).</summary>
    public int? ReaperPid { get; private set; }

    /// <summary>
    /// The small launcher holding the entry copies' perf event links after the session (<see cref="Detach"/>), when no
    /// reaper was needed; null otherwise.
    /// </summary>
    public int? HolderPid { get; private set; }

    /// <summary>What made the reaper necessary, for the notice ("kernel origins", "capability probes (fexit)").</summary>
    public string ReaperHolds { get; private set; } = "probes";

    /// <summary>
    /// Detaches every program (no new events), keeping the ring buffer readable for a final drain. The links
    /// whose close waits for the kernel (origin and site probes, trampolines) are handed to a
    /// <see cref="LinkReaper"/> first, so that closing them here returns at once. <paramref name="ending"/>: the session
    /// ends (its command has ended, or the user stopped it); when a reaper is started anyway, the tracepoints' links go to
    /// it too: closing a tracepoint's last link patches the kernel's text (its static key), ~0.1 s per link in the lab's
    /// emulated CPU (~1 s of exit -> prompt on 6.12, bench/README "Tracepoint links to the reaper, session 16"). Their
    /// programs then stay attached until whyfail has exited: what the command's surviving descendants do after the final
    /// drain is not read, as it would not have been traced.
    /// </summary>
    public void Detach(bool ending = false, string? holder = null)
    {
        var slow = new List<int>();
        if (OriginProbes != null) slow.AddRange(OriginProbes.LinkFds());
        if (SiteProbes != null) slow.AddRange(SiteProbes.LinkFds());
        var perf = _bpf?.PerfLinkFds() ?? [];
        bool capabilityProbes = Capabilities.Kind is CapabilitySourceKind.Fexit or CapabilitySourceKind.Kprobe;
        if (_bpf != null && ending && (slow.Count > 0 || capabilityProbes) && !HandOffTracepointsOff)
            slow.AddRange(_bpf.LinkFds());
        else if (_bpf != null)
        {
            if (capabilityProbes) slow.AddRange(_bpf.LinkFds(Capabilities.Programs.ToList()));
            if (slow.Count > 0) slow.AddRange(perf); // a reaper is started anyway: the perf events go with it
        }
        if (slow.Count > 0 && ReaperPid == null)
            ReaperHolds = OriginProbes != null ? "kernel origins" : SiteProbes != null ? "error-site probes" : $"capability probes ({Capabilities.Name})";
        if (slow.Count > 0)
            ReaperPid ??= LinkReaper.HandOff(slow, OriginProbes != null
                ? $"{OriginProbes.Functions.Count} {OriginBackends.Describe(OriginProbes.Backend)} probes ({slow.Count} links)"
                : $"{slow.Count} probe links");
        else if (perf.Count > 0 && _bpf != null && HolderPid == null)
        {
            // Only the entry copies' perf events are slow to close (~50 ms each, one after the other): the small
            // launcher holds them, with the tracepoints' links when the session ends (their programs then stay until
            // whyfail has exited, as with the reaper), and closes them after whyfail has gone. Not worth a notice.
            var fds = ending && !HandOffTracepointsOff ? _bpf.LinkFds().ToList() : perf.ToList();
            HolderPid = LinkReaper.HandOff(fds, $"{perf.Count} entry tracepoints ({fds.Count} links)", holder);
        }
        StartupTimes.Mark("links handed to the reaper");
        if (ReaperPid != null)
        {
            SiteProbes?.Release();
            OriginProbes?.Release();
        }
        SiteProbes?.Dispose();
        SiteProbes = null;
        OriginProbes?.Dispose();
        OriginProbes = null;
        StartupTimes.Mark("origin probes let go");
        _bpf?.DetachAll();
    }

    public void Dispose()
    {
        if (Environment.GetEnvironmentVariable("WHYFAIL_CONTEXT_STATS") == "1")
            Console.Error.WriteLine($"whyfail: contexts: {ContextParser.BasesSeen} bases, {ContextParser.ReferencesSeen} references, " +
                $"{ContextParser.UnknownBases} unknown");
        if (_ringStats != null && _backlog != null)
            Console.Error.WriteLine($"whyfail: ring: {_ringStats.Describe(_backlog.Size, Stats.LostEvents)}; reader raised {_priority?.Raised ?? 0} times");
        SiteProbes?.Dispose();
        SiteProbes = null;
        OriginProbes?.Dispose();
        OriginProbes = null;
        if (_ring != 0)
        {
            Libbpf.RingBufferFree(_ring);
            _ring = 0;
        }
        _backlog?.Dispose();
        _backlog = null;
        _bpf?.Dispose();
        if (_self.IsAllocated) _self.Free();
    }

    [UnmanagedCallersOnly]
    private static int OnSample(nint ctx, void* data, nuint size)
    {
        var self = (TracepointCapture)GCHandle.FromIntPtr(ctx).Target!;
        try
        {
            var record = new ReadOnlySpan<byte>(data, (int)size);
            self._ringStats?.Record((int)size);
            if (--self._untilPriorityCheck == 0)
            {
                self._untilPriorityCheck = PriorityCheckEvery;
                if (self._backlog is { } b) self._priority?.Follow(b.Bytes, b.Size);
            }
            switch (EventParser.RecordType(record))
            {
                case WfConst.RecExit:
                    if (EventParser.ParseExit(record) is { } exit) self.OnExit?.Invoke(exit);
                    break;
                case WfConst.RecMessage:
                    if (EventParser.ParseMessage(record) is { } message) self.OnMessage?.Invoke(message);
                    break;
                case WfConst.RecUring:
                    if (UringRecord.Parse(record) is { } completion) self.OnEvent?.Invoke(completion);
                    break;
                case WfConst.RecSeccomp:
                    SeccompPrograms.Add(record);
                    break;
                case WfConst.RecOriginArgs:
                    (self._originArgs ??= new OriginArgsRecords()).Add(record);
                    break;
                default:
                    if (EventParser.Parse(record) is { } ev)
                    {
                        self._originArgs?.Pair(ev);
                        self.OnEvent?.Invoke(ev);
                    }
                    break;
            }
            return Environment.TickCount64 > self._yieldAt ? -4 /* EINTR: back to the polling loop; this sample is consumed */ : 0;
        }
        catch (Exception e)
        {
            self._callbackError = e;
            return -1; // stops this poll; the error is rethrown on the polling thread
        }
    }
}
