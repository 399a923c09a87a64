using System.Diagnostics;
using System.Runtime.InteropServices;
using Whyfail.Capture;
using Whyfail.Capture.Native;
using Whyfail.Tracing.Inject;

namespace Whyfail.Tracing;

/// <summary>
/// What every mode that traces processes shares (trace, graph, …): the target checked before any kernel work,
/// the command's launcher started early and held before exec (killed if the session fails before letting it
/// run), the signals (forwarded to the command, or ending the session), the adoption of the traced processes,
/// and the loop that runs until the command ends or the user stops the session. A mode adds its own capture
/// settings, analysis and output around it.
/// </summary>
public sealed class SessionHost : IDisposable
{
    /// <summary>What to trace: a command (resolved on PATH; run as <see cref="Credentials"/> when set), running pids, or neither (the whole system).</summary>
    public sealed record Target(string? Executable, IReadOnlyList<string> Command, IReadOnlyList<int> Pids, Launcher.Credentials? Credentials);

    private readonly Target _target;
    private readonly List<PosixSignalRegistration> _signals = [];
    private Launcher.KillUnlessReleased? _unreleased;
    private volatile bool _stop;
    private volatile bool _released;
    private volatile int _stopSignal;

    /// <summary>The launcher of the command (whyfail itself, held before exec; the command is its child), when there is a command.</summary>
    public Process? Child { get; private set; }

    /// <summary>The user asked to end the session (a signal without a command to forward it to).</summary>
    public bool StopRequested => _stop;

    private SessionHost(Target target) => _target = target;

    /// <summary>
    /// Checks the target without the kernel (fast, clear errors): the command exists and is executable, -u names a
    /// user, every pid runs.
    /// </summary>
    public static Target Resolve(IReadOnlyList<string> command, IReadOnlyList<int> pids, string? user = null)
    {
        string? executable = null;
        Launcher.Credentials? creds = null;
        if (command.Count > 0)
        {
            if (user != null) creds = Launcher.LookupUser(user);
            executable = Launcher.Resolve(command[0], creds)
                ?? throw new WhyfailException(Launcher.NotFound(command[0]), ExitCodes.CommandNotFound);
        }
        foreach (var pid in pids)
            if (!Directory.Exists($"/proc/{pid}"))
                throw new WhyfailException($"no process with pid {pid}", ExitCodes.NoSuchProcess);
        return new Target(executable, command, pids, creds);
    }

    /// <summary>
    /// Starts the session: the command's launcher now (its start-up overlaps loading the BPF programs; it runs
    /// nothing until <see cref="Begin"/>), and the signal handling. SIGINT, SIGTERM and SIGHUP go to the command
    /// (a terminal's Ctrl-C has already reached it), which then ends the session by exiting; without a command
    /// they end the session, except SIGHUP when <paramref name="onHangup"/> takes it (it returns true).
    /// </summary>
    public static SessionHost Start(Target target, InjectFilter? inject = null, Func<bool>? onHangup = null)
    {
        var host = new SessionHost(target);
        if (target.Executable != null)
        {
            host.Child = Launcher.Start(target.Executable, target.Command, target.Credentials, inject);
            host._unreleased = new Launcher.KillUnlessReleased(host.Child);
        }
        foreach (var sig in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGHUP })
            host._signals.Add(PosixSignalRegistration.Create(sig, ctx =>
            {
                ctx.Cancel = true;
                int signo = ctx.Signal switch { PosixSignal.SIGINT => Libc.SIGINT, PosixSignal.SIGHUP => 1, _ => Libc.SIGTERM };
                if (host.Child != null && !host._released)
                {
                    // Before the command runs: it never will (the launcher is sent away by Begin or Dispose).
                    host._stopSignal = signo;
                    host._stop = true;
                }
                else if (host.Child is { HasExited: false } child)
                {
                    bool fromTerminal = ctx.Signal == PosixSignal.SIGINT && !Console.IsInputRedirected;
                    if (!fromTerminal)
                        Libc.Kill(child.Id, signo);
                }
                else if (!(ctx.Signal == PosixSignal.SIGHUP && onHangup?.Invoke() == true))
                    host._stop = true;
            }));
        return host;
    }

    /// <summary>
    /// Adopts the traced processes in <paramref name="capture"/> and lets the command run: the launcher is armed
    /// to be traced from its exec on, <paramref name="beforeRun"/> sees the pids about to run (a recorder that must
    /// start first), then the launcher gets its go byte. Running pids are adopted as they are. A session stopped
    /// before this point never runs the command.
    /// </summary>
    /// <returns>False when the session was stopped before the command could run.</returns>
    public bool Begin(TracepointCapture capture, Action<IReadOnlyList<int>>? beforeRun = null)
    {
        if (Child != null && _stop)
        {
            _unreleased!.Dispose(); // end of file on the go pipe: the launcher exits without running anything
            return false;
        }
        if (Child != null)
        {
            capture.Adopt([Child.Id], armOnExec: true);
            beforeRun?.Invoke([Child.Id]);
            Launcher.Release(Child);
            _unreleased!.Released = true;
            _released = true;
        }
        else
        {
            if (_target.Pids.Count > 0) capture.Adopt(_target.Pids, armOnExec: false);
            beforeRun?.Invoke(_target.Pids);
        }
        return true;
    }

    /// <summary>
    /// Reads events until the command has exited (its exit status is returned), every pid has ended, or the session
    /// is stopped (a signal, or <paramref name="stopAlso"/>). <paramref name="afterPoll"/> runs after each poll.
    /// A command that never ran because a signal came first gives 128 + that signal, as a shell would.
    /// </summary>
    public int Loop(TracepointCapture capture, Func<bool>? stopAlso = null, Action? afterPoll = null, Action? stoppedEarly = null)
    {
        if (Child != null && !_released)
        {
            Child.WaitForExit();
            return 128 + _stopSignal;
        }
        return TraceLoop.Run(capture, Child, _target.Pids, () => _stop || stopAlso?.Invoke() == true, afterPoll, stoppedEarly);
    }

    public void Dispose()
    {
        foreach (var r in _signals) r.Dispose();
        _signals.Clear();
        _unreleased?.Dispose();
    }
}
