using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using Whyfail.Capture;
using Whyfail.Decoding;
using Whyfail.Events;

namespace Whyfail.Metrics;

/// <summary>
/// --metrics ADDR:PORT: failures and the session's health as Prometheus metrics on /metrics, through the
/// OpenTelemetry .NET SDK and its Prometheus HttpListener exporter. Every name starts with whyfail_; labels
/// are bounded: syscall, errno and rule come from fixed tables, container and comm keep their first N
/// values and count the rest as "other"; no path or pid is ever a label.
/// </summary>
public sealed class FailureMetrics : IDisposable
{
    public const string MeterName = "whyfail";
    /// <summary>The rule label of a failure no rule explained (or with --no-explain).</summary>
    public const string NoRule = "none";
    public const int ContainerLimit = 200, CommLimit = 50;

    private readonly Meter _meter;
    private readonly MeterProvider _provider;
    private readonly Counter<long> _failures, _byComm;
    private readonly BoundedLabel _containers = new(ContainerLimit), _comms = new(CommLimit);
    private readonly Stopwatch _sinceRefresh = Stopwatch.StartNew();
    private long _lost, _lostEvidence, _reported, _programs, _origins, _skipped, _reused, _judgedEarly, _judgedAtRepeat;

    public MetricsEndpoint Endpoint { get; }

    private FailureMetrics(MetricsEndpoint endpoint)
    {
        Endpoint = endpoint;
        _meter = new Meter(MeterName, typeof(FailureMetrics).Assembly.GetName().Version?.ToString(3));
        _failures = _meter.CreateCounter<long>("whyfail.failures",
            description: "Failing system calls seen, by syscall, errno, the rule of the first explanation (none: no rule matched) and container");
        _byComm = _meter.CreateCounter<long>("whyfail.failures.by_comm",
            description: $"Failing system calls by process name (the first {CommLimit} names seen; later ones count as other)");
        _meter.CreateObservableCounter("whyfail.events.lost", () => Volatile.Read(ref _lost),
            description: "Events the kernel could not put in the ring buffer (it was full)");
        _meter.CreateObservableCounter("whyfail.evidence.lost", () => Volatile.Read(ref _lostEvidence),
            description: "Evidence records (capability checks, signals) the kernel side could not keep");
        _meter.CreateObservableCounter("whyfail.events.reported", () => Volatile.Read(ref _reported),
            description: "Events the kernel side delivered to whyfail");
        _meter.CreateObservableCounter("whyfail.explanations.skipped", () => Volatile.Read(ref _skipped),
            description: "Failures reported without an explanation because whyfail could not keep up (a quarter of the ring buffer waiting)");
        _meter.CreateObservableCounter("whyfail.explanations.reused", () => Volatile.Read(ref _reused),
            description: "Failures explained by reusing the explanation of an identical failure of the same process (within 1 s)");
        _meter.CreateObservableCounter("whyfail.verdict.judged_early", () => Volatile.Read(ref _judgedEarly),
            description: "Failures judged before their 1 s wait for what follows (a message, the exit) because too many were held (a flood)");
        _meter.CreateObservableCounter("whyfail.verdict.judged_at_repeat", () => Volatile.Read(ref _judgedAtRepeat),
            description: "Failures judged when their thread's next call was the same failure again, instead of after their 1 s wait (a run of one failure: the rule working, nothing lost)");
        _meter.CreateObservableGauge("whyfail.probes.attached", () => new[]
        {
            new Measurement<long>(Volatile.Read(ref _programs), new KeyValuePair<string, object?>("kind", "bpf_program")),
            new Measurement<long>(Volatile.Read(ref _origins), new KeyValuePair<string, object?>("kind", "origin_function")),
        }, description: "BPF programs attached (tracepoints and evidence) and kernel functions watched for origins");
        try
        {
            _provider = Sdk.CreateMeterProviderBuilder()
                .SetResourceBuilder(ResourceBuilder.CreateEmpty().AddService("whyfail", serviceVersion: _meter.Version, autoGenerateServiceInstanceId: false))
                .AddMeter(MeterName)
                .AddView("whyfail.failures", new MetricStreamConfiguration { CardinalityLimit = 20000 })
                .AddPrometheusHttpListener(o =>
                {
                    o.Host = endpoint.ListenerHost;
                    o.Port = endpoint.Port;
                    o.ScopeInfoEnabled = false;
                    o.ScrapeResponseCacheDurationMilliseconds = 0;
                })
                .Build();
        }
        catch (Exception e) when (e is HttpListenerException or System.Net.Sockets.SocketException or InvalidOperationException)
        {
            _meter.Dispose();
            throw new WhyfailException($"--metrics {endpoint}: cannot listen there: {e.Message}", ExitCodes.Usage);
        }
    }

    /// <summary>Starts serving http://ENDPOINT/metrics.</summary>
    public static FailureMetrics Start(MetricsEndpoint endpoint) => new(endpoint);

    /// <summary>Counts one event (failures only), after analysis has explained it.</summary>
    public void Count(SyscallEvent ev)
    {
        if (!ev.Failed) return;
        _failures.Add(1, new TagList
        {
            { "syscall", ev.Syscall },
            { "errno", Errno.Name(ev.Errno) ?? ev.Errno.ToString() },
            { "rule", ev.Explanation.Count > 0 ? ev.Explanation[0].Rule : NoRule },
            { "container", _containers.Map(ContainerLabel(ev)) },
        });
        _byComm.Add(1, new KeyValuePair<string, object?>("comm", _comms.Map(ev.Comm)));
    }

    /// <summary>The container label, "docker:3f2a9c1e0b7d": empty outside a container (Prometheus treats an empty label as absent).</summary>
    private static string ContainerLabel(SyscallEvent ev) => ev.Cgroup is { Runtime: { } r } c ? $"{r}:{c.ShortId}" : "";

    /// <summary>Reads the capture's counters (at most once a second; called after each poll).</summary>
    public void Refresh(TracepointCapture capture, (long Skipped, long Reused) explanations, (long Early, long AtRepeat) judged, bool now = false)
    {
        if (!now && _sinceRefresh.ElapsedMilliseconds < 1000) return;
        _sinceRefresh.Restart();
        var s = capture.Stats;
        Volatile.Write(ref _lost, (long)s.LostEvents);
        Volatile.Write(ref _lostEvidence, (long)s.LostEvidence);
        Volatile.Write(ref _reported, (long)s.Reported);
        Volatile.Write(ref _skipped, explanations.Skipped);
        Volatile.Write(ref _reused, explanations.Reused);
        Volatile.Write(ref _judgedEarly, judged.Early);
        Volatile.Write(ref _judgedAtRepeat, judged.AtRepeat);
        Volatile.Write(ref _programs, capture.AttachedPrograms);
        Volatile.Write(ref _origins, capture.OriginProbes?.Functions.Count ?? 0);
    }

    public void Dispose()
    {
        _provider.Dispose();
        _meter.Dispose();
    }
}
