namespace Whyfail.Tracing;

public enum ColorMode { Auto, Always, Never }

public static class ColorModes
{
    /// <summary>
    /// Whether text output is coloured: always, never, or (auto) when it goes to standard error, that is a terminal,
    /// NO_COLOR is not set and TERM is set and not "dumb".
    /// </summary>
    public static bool Decide(this ColorMode mode, bool toFile) => mode switch
    {
        ColorMode.Always => true,
        ColorMode.Never => false,
        _ => !toFile && !Console.IsErrorRedirected && Environment.GetEnvironmentVariable("NO_COLOR") == null
             && Environment.GetEnvironmentVariable("TERM") is { } t && t != "dumb",
    };
}

/// <summary>Everything the command line says about one tracing session.</summary>
public sealed class TraceSettings
{
    public IReadOnlyList<string> Command { get; init; } = [];
    public IReadOnlyList<int> Pids { get; init; } = [];
    public bool System { get; init; }
    public bool Follow { get; init; } = true;
    public string? User { get; init; }
    public string? OutputFile { get; init; }
    /// <summary>--format: a name from <see cref="Rendering.OutputFormats"/>.</summary>
    public string Format { get; init; } = Rendering.OutputFormats.Text;
    /// <summary>--json, the alias of --format json.</summary>
    public bool Json { get => Format == Rendering.OutputFormats.Json; init { if (value) Format = Rendering.OutputFormats.Json; } }
    public bool All { get; init; }
    /// <summary>--routine: routine failures shown one by one in text, not folded (--all implies it).</summary>
    public bool Routine { get; init; }
    public bool ShowInternal { get; init; }
    public bool Summary { get; init; }
    public bool Explain { get; init; } = true;
    public ISet<int>? Syscalls { get; init; }
    public ISet<int>? Errnos { get; init; }
    public ISet<string>? Comms { get; init; }
    public int StringLimit { get; init; } = 64;
    public ColorMode Color { get; init; }
    public int BufferBytes { get; init; } = 16 << 20;
    /// <summary>
    /// --system's ring buffer when --buffer-size is not given: 4 MiB (~5,000 failures with their context, a second of a
    /// 5,000/s flood). Its pages are mapped twice (the kernel maps the data area twice for wrap-around reads), so the
    /// default 16 MiB would be 32 MB of a long-running service's resident memory on its own.
    /// </summary>
    public const int ServiceBufferBytes = 4 << 20;
    /// <summary>Syscalls whose kernel origin is traced (--deep); null = the default set, empty = none.</summary>
    public IReadOnlyList<string>? DeepSyscalls { get; init; }
    /// <summary>--backend; null = the best the kernel allows.</summary>
    public Capture.Origin.OriginBackend? Backend { get; init; }
    /// <summary>Most kernel functions watched for origins (--deep-budget).</summary>
    public int DeepBudget { get; init; } = 600;
    /// <summary>A vmlinux with symbols and text (--vmlinux), else /proc/kcore or the distribution's debug file.</summary>
    public string? Vmlinux { get; init; }

    /// <summary>A kernel source tree for snippets of the error site (--kernel-src).</summary>
    public string? KernelSrc { get; init; }

    /// <summary>--pinpoint: kprobes on candidate error sites decide which one a later failure took.</summary>
    public bool Pinpoint { get; init; }
    /// <summary>--args: the arguments of the origin chain's functions (needs an origin backend).</summary>
    public bool Args { get; init; }

    /// <summary>--inject rules, in command-line order.</summary>
    public IReadOnlyList<Inject.InjectRule> Inject { get; init; } = [];

    /// <summary>`whyfail deny` rules, in command-line order (empty: a plain trace).</summary>
    public IReadOnlyList<Capture.Deny.DenyRule> Deny { get; init; } = [];

    /// <summary>`whyfail deny --all-failures`: report every failure, not only the refusals.</summary>
    public bool DenyAllFailures { get; init; }

    /// <summary>--metrics ADDR:PORT: serve Prometheus metrics there.</summary>
    public Whyfail.Metrics.MetricsEndpoint? Metrics { get; init; }
}
