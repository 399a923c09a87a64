using System.CommandLine;
using System.CommandLine.Parsing;
using Whyfail.Decoding;
using Whyfail.Rendering;
using Whyfail.Tracing;

namespace Whyfail.Cli;

/// <summary>The command line: `whyfail [options] -- CMD`, `-p PID`, `--system`, and the subcommands.</summary>
public static class WhyfailCli
{
    private const string About = """
        whyfail traces the failing system calls of a command, running processes or the whole
        system, prints each one decoded (as strace does), and says why it failed: what the kernel
        did during the call (denied capabilities, signals) and what in the live system state
        caused it, with a suggested fix.

        Usage: whyfail [options] -- COMMAND [ARG...]   (or -p PID, or --system)

        Examples:
          whyfail -- cat /etc/shadow-missing       run a command and explain its failures
          whyfail -u nobody -- ls /root            run it as another user
          whyfail -p 1234                          attach to a running process (and its children)
          whyfail --system --errno EACCES,EPERM    every process on the machine, two errnos only
          whyfail --json -o trace.jsonl -- make    JSON Lines for tools (schema: docs/json.md)
          whyfail errno 512                        what an errno number or name means
          whyfail doctor                           what this kernel lets whyfail see
          whyfail graph --syscall X --diff -- CMD  kernel call trees of the failing calls (see graph --help)
          whyfail deny 'create=*.exe:user=!root'   refuse operations by rule, system-wide (see deny --help)

        Exit status: the command's own (128+N if killed by signal N; 127 if not found); whyfail's
        own errors: 2 usage, 3 missing privilege, 4 kernel lacks a feature, 5 no such process,
        6 cannot write output, 70 internal error.
        """;

    public static int Run(string[] args)
    {
        if (args.Length > 0 && args[0] == Launcher.Verb)
            return Launcher.RunLauncher(args);
        if (args.Length > 0 && args[0] == Capture.LinkReaper.Verb)
            return Capture.LinkReaper.Run(args);
        var root = Build();
        var parsed = root.Parse(args);
        if (UsageErrors(parsed, args) is { Count: > 0 } errors)
        {
            foreach (var e in errors) Console.Error.WriteLine($"whyfail: {e}");
            Console.Error.WriteLine($"Try 'whyfail {(parsed.CommandResult.Command is RootCommand ? "" : parsed.CommandResult.Command.Name + " ")}--help'.");
            return ExitCodes.Usage;
        }
        return parsed.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
    }

    /// <summary>
    /// The parser's errors, plus options it did not know that ended up as the traced command
    /// (`whyfail --bogus -- ls` would otherwise try to run "--bogus"): exit status 2, not a help page.
    /// </summary>
    internal static List<string> UsageErrors(ParseResult parsed, string[] args)
    {
        var errors = parsed.Errors.Select(e => e.Message).ToList();
        // Every token after the first -- is the command's, in order, at the end of the command's tokens; only the
        // ones before them came from before --. Their own options (`whyfail -o F -- cc -o x`) are the command's.
        int dashdash = Array.IndexOf(args, "--");
        int afterDashDash = dashdash < 0 ? 0 : args.Length - dashdash - 1;
        var commandTokens = parsed.CommandResult.Children.OfType<ArgumentResult>()
            .Where(a => a.Argument.Name == "command").SelectMany(a => a.Tokens).Select(t => t.Value).ToList();
        foreach (var t in commandTokens.Take(Math.Max(0, commandTokens.Count - afterDashDash)))
        {
            if (!t.StartsWith('-') || t == "-") continue;
            errors.Add($"unknown option '{t}' (a command's own options go after --: whyfail [options] -- CMD ARGS)");
            break;
        }
        return errors;
    }

    internal static RootCommand Build()
    {
        var follow = new Option<bool>("--follow", "-f") { Description = "Follow children, threads and exec'd programs (the default; accepted for strace habit)" };
        var noFollow = new Option<bool>("--no-follow") { Description = "Trace only the processes named, not their children" };
        var pids = new Option<string[]>("--pid", "-p") { Description = "Attach to running processes: PID[,PID...] (repeatable)", HelpName = "PID", AllowMultipleArgumentsPerToken = false };
        var system = new Option<bool>("--system") { Description = "Trace every process on the machine" };
        var comm = new Option<string[]>("--comm") { Description = "Only processes with this name (as in /proc/PID/comm; repeatable; up to 8 are compared in the kernel, so others cost almost nothing)", HelpName = "NAME" };
        var user = new Option<string?>("--user", "-u") { Description = "Run the command as USER (name or uid): its groups, gid, then uid are set before exec", HelpName = "USER" };
        var output = new Option<string?>("--output", "-o") { Description = "Write the trace to FILE instead of standard error (never follows a symlink)", HelpName = "FILE" };
        var json = new Option<bool>("--json") { Description = "JSON Lines output (one object per event, then a summary; see docs/json.md); the same as --format json" };
        var format = new Option<string>("--format") { Description = "Output format: " + string.Join("; ", OutputFormats.All.Select(f => $"{f.Name}: {f.About}")), DefaultValueFactory = _ => OutputFormats.Text, HelpName = string.Join("|", OutputFormats.All.Select(f => f.Name)) };
        format.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<string>() is { } f && !OutputFormats.IsKnown(f))
                r.AddError($"--format {f}: unknown format (known: {string.Join(", ", OutputFormats.All.Select(x => x.Name))})");
        });
        var all = new Option<bool>("--all") { Description = "Show successful calls too, not only failures" };
        var routine = new Option<bool>("--routine") { Description = "Show routine failures too (searches, fallbacks, probes the program recovered from), not folded into one line" };
        var showInternal = new Option<bool>("--show-internal") { Description = "Show kernel-internal return codes (ERESTARTSYS …) that user space never sees" };
        var syscalls = new Option<string[]>("--syscall", "-e") { Description = "Only these syscalls: names and classes (%file %net %process %signal %ipc %memory %desc %creds), comma separated; filtered in the kernel", HelpName = "LIST" };
        var errnos = new Option<string[]>("--errno") { Description = "Only these errors: names or numbers, comma separated (e.g. ENOENT,EACCES,13); filtered in the kernel", HelpName = "LIST" };
        var strLimit = new Option<int>("--string-limit", "-s") { Description = "Maximum string length shown", DefaultValueFactory = _ => 64, HelpName = "N" };
        var summary = new Option<bool>("--summary", "-c") { Description = "Print counts (syscall × errno × process name) at exit" };
        var color = new Option<ColorMode>("--color") { Description = "Colour the text output", DefaultValueFactory = _ => ColorMode.Auto };
        var noExplain = new Option<bool>("--no-explain") { Description = "Do not explain failures: no live system state is read, and the kernel side copies no failure context (the JSON has no \"context\"; origin probes, where attached, still get it)" };
        var bufferSize = new Option<string>("--buffer-size") { Description = "Kernel ring buffer size, 4K to 1G (e.g. 16M, 256M; rounded up to a power of two); larger loses fewer events in floods (default 16M, 4M with --system: the service's memory)", DefaultValueFactory = _ => "16M", HelpName = "SIZE" };
        var deep = new Option<string>("--deep") { Description = "Syscalls whose kernel origin is traced: auto (a default set of often-failing calls), none, or a comma-separated list", DefaultValueFactory = _ => "auto", HelpName = "auto|none|LIST" };
        var backend = new Option<string>("--backend") { Description = "Origin backend: auto, kretprobe.multi, fexit, kretprobe, none", DefaultValueFactory = _ => "auto", HelpName = "NAME" };
        var deepBudget = new Option<int>("--deep-budget") { Description = "At most this many kernel functions are watched for origins", DefaultValueFactory = _ => 600, HelpName = "N" };
        var vmlinux = new Option<string?>("--vmlinux") { Description = "A vmlinux with symbols (e.g. from linux-image-*-dbg) for the kernel call graph and source lines", HelpName = "PATH" };
        var command = new Argument<string[]>("command") { Description = "The command to run and trace, after --", Arity = ArgumentArity.ZeroOrMore,
            // Hidden from the generated usage: subcommands' help pages would otherwise show it as theirs
            // ("whyfail [<command>...] graph ..."); the About text gives the usage instead.
            Hidden = true };

        var root = new RootCommand(About);
        var kernelSrc = new Option<string?>("--kernel-src") { Description = "The running kernel's source: a tree, or a tarball such as /usr/src/linux-source-6.1.tar.xz (found by itself when the installed linux-source matches the running kernel); shows the lines around each error site", HelpName = "DIR|TARBALL" };
        var pinpoint = new Option<bool>("--pinpoint") { Description = "Where the kernel allows kprobes and debug info is there: when an origin has several candidate error sites, arm a kprobe on each and name the one that fired. The first failure of a (function, errno) names the candidates; its later occurrences are pinpointed" };
        var metrics = new Option<string?>("--metrics") { Description = "Serve Prometheus metrics (whyfail_failures_total by syscall, errno, rule and container; events lost; probes attached) on http://ADDR:PORT/metrics", HelpName = "ADDR:PORT" };
        var inject = new Option<string[]>("--inject") { Description = "Make calls of the command fail (or return N) on purpose, strace's syntax: SET:error=ERRNO|retval=N[:when=FIRST[..LAST][+[STEP]]], plus :path=GLOB (the call's path argument) and :comm=NAME; repeatable, the first rule naming a call decides. Works on every kernel (a seccomp filter installed before exec, inherited by children); injected calls are marked \"(injected)\"", HelpName = "RULE" };
        var originArgs = new Option<bool>("--args") { Description = "Show the arguments of each function on the origin chain, typed from BTF (structs one level deep, strings, pointers as addresses). Needs kernel origins: kprobes or fexit" };
        foreach (Option o in new Option[] { follow, noFollow, pids, system, comm, user, output, json, format, all, routine, showInternal, syscalls, errnos, strLimit, summary, color, noExplain, bufferSize, deep, backend, deepBudget, vmlinux, kernelSrc, pinpoint, originArgs, inject, metrics })
            root.Options.Add(o);
        root.Arguments.Add(command);

        root.Validators.Add(r =>
        {
            int modes = (r.GetValue(command) is { Length: > 0 } ? 1 : 0) + (r.GetValue(pids) is { Length: > 0 } ? 1 : 0) + (r.GetValue(system) ? 1 : 0);
            if (modes == 0)
                r.AddError("nothing to trace: give a command after --, -p PID, or --system (see --help)");
            else if (modes > 1)
                r.AddError("choose one of: a command, -p PID, --system");
            if (r.GetValue(user) != null && r.GetValue(command) is not { Length: > 0 })
                r.AddError("-u USER applies to a command started by whyfail");
            if (r.GetValue(inject) is { Length: > 0 } && r.GetValue(command) is not { Length: > 0 })
                r.AddError("--inject applies to a command started by whyfail (its seccomp filter is installed before exec)");
            if (r.GetValue(strLimit) < 0)
                r.AddError("--string-limit must be 0 or more");
            if (r.GetValue(json) && r.GetValue(format) is { } f && f != OutputFormats.Text && f != OutputFormats.Json)
                r.AddError($"--json is --format json: it contradicts --format {f}");
        });

        root.SetAction(pr => Guard(() =>
        {
            var settings = new TraceSettings
            {
                Command = pr.GetValue(command) ?? [],
                Pids = ParsePids(pr.GetValue(pids)),
                System = pr.GetValue(system),
                Follow = !pr.GetValue(noFollow),
                User = pr.GetValue(user),
                OutputFile = pr.GetValue(output),
                Format = pr.GetValue(json) ? OutputFormats.Json : pr.GetValue(format)!,
                All = pr.GetValue(all),
                Routine = pr.GetValue(routine),
                ShowInternal = pr.GetValue(showInternal),
                Summary = pr.GetValue(summary),
                Explain = !pr.GetValue(noExplain),
                Syscalls = ParseSyscalls(pr.GetValue(syscalls)),
                Errnos = ParseErrnos(pr.GetValue(errnos)),
                Comms = pr.GetValue(comm) is { Length: > 0 } c ? c.SelectMany(Split).ToHashSet() : null,
                StringLimit = pr.GetValue(strLimit),
                Color = pr.GetValue(color),
                BufferBytes = pr.GetResult(bufferSize) is null or { Implicit: true } && pr.GetValue(system) ? TraceSettings.ServiceBufferBytes : ParseSize(pr.GetValue(bufferSize)!),
                DeepSyscalls = ParseDeep(pr.GetValue(deep)!),
                Backend = ParseBackend(pr.GetValue(backend)!),
                DeepBudget = pr.GetValue(deepBudget),
                Vmlinux = pr.GetValue(vmlinux),
                KernelSrc = pr.GetValue(kernelSrc),
                Pinpoint = pr.GetValue(pinpoint),
                Args = pr.GetValue(originArgs),
                Metrics = pr.GetValue(metrics) is { } m ? Metrics.MetricsEndpoint.Parse(m) : null,
                Inject = Tracing.Inject.InjectParser.ParseAll(pr.GetValue(inject)),
            };
            return new TraceSession(settings, Console.Error).Run();
        }));

        root.Subcommands.Add(ErrnoCommand());
        root.Subcommands.Add(DoctorCommand.Build());
        root.Subcommands.Add(Graph.GraphCommand.Build());
        root.Subcommands.Add(ProbeCommand.Build());
        root.Subcommands.Add(DenyCommand.Build());
        return root;
    }

    /// <summary>
    /// Runs an action, turning whyfail's own errors into one clear message and their exit code, and any
    /// other exception (a bug) into "internal error" and exit 70.
    /// </summary>
    internal static int Guard(Func<int> action)
    {
        try
        {
            return action();
        }
        catch (Exception e)
        {
            return Report(e);
        }
    }

    /// <summary>Prints an exception that ends whyfail (to standard error) and returns the exit code it ends with.</summary>
    internal static int Report(Exception e, TextWriter? err = null)
    {
        err ??= Console.Error;
        if (e is WhyfailException w)
        {
            err.WriteLine($"whyfail: {w.Message}");
            Detail(err, w.Detail);
            return w.ExitCode;
        }
        err.WriteLine($"whyfail: internal error: {e.GetType().Name}: {e.Message}");
        // Where it happened, for a bug report; not the whole trace.
        Detail(err, string.Join('\n', (e.StackTrace ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries).Take(4).Select(l => l.Trim())));
        return ExitCodes.Internal;
    }

    private static void Detail(TextWriter err, string? detail)
    {
        if (string.IsNullOrWhiteSpace(detail)) return;
        foreach (var line in detail.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            err.WriteLine($"  | {line}");
    }

    private static IEnumerable<string> Split(string s) => s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    internal static IReadOnlyList<int> ParsePids(string[]? values)
    {
        var list = new List<int>();
        foreach (var p in (values ?? []).SelectMany(Split))
        {
            if (!int.TryParse(p, out int pid) || pid <= 0)
                throw new WhyfailException($"-p: '{p}' is not a process id", ExitCodes.Usage);
            list.Add(pid);
        }
        return list;
    }

    internal static ISet<int>? ParseSyscalls(string[]? values)
    {
        if (values is not { Length: > 0 }) return null;
        var set = new HashSet<int>();
        foreach (var name in values.SelectMany(Split))
        {
            if (name.StartsWith('%'))
            {
                if (!SyscallTable.TryExpandClass(name, out var nrs))
                    throw new WhyfailException($"unknown syscall class '{name}': known classes are %file %net %process %signal %ipc %memory %desc %creds", ExitCodes.Usage);
                set.UnionWith(nrs);
            }
            else if (SyscallTable.TryGetNumber(name, out int nr))
                set.Add(nr);
            else
            {
                var close = SyscallTable.Suggest(name);
                throw new WhyfailException($"unknown syscall '{name}'" + (close.Count > 0 ? $"; did you mean {string.Join(", ", close)}?" : ""), ExitCodes.Usage);
            }
        }
        return set;
    }

    internal static ISet<int>? ParseErrnos(string[]? values)
    {
        if (values is not { Length: > 0 }) return null;
        var set = new HashSet<int>();
        foreach (var name in values.SelectMany(Split))
        {
            if (!Errno.TryParse(name, out int e))
            {
                var close = Errno.Suggest(name);
                throw new WhyfailException($"unknown errno '{name}'" + (close.Count > 0 ? $"; did you mean {string.Join(", ", close)}?" : ""), ExitCodes.Usage);
            }
            set.Add(e);
        }
        return set;
    }

    internal static IReadOnlyList<string>? ParseDeep(string value)
    {
        if (value == "auto") return null;
        if (value == "none") return [];
        var list = new List<string>();
        foreach (var name in Split(value))
        {
            if (!SyscallTable.TryGetNumber(name, out _))
            {
                var close = SyscallTable.Suggest(name);
                throw new WhyfailException($"--deep: unknown syscall '{name}'" + (close.Count > 0 ? $"; did you mean {string.Join(", ", close)}?" : ""), ExitCodes.Usage);
            }
            list.Add(name);
        }
        return list;
    }

    internal static Capture.Origin.OriginBackend? ParseBackend(string value)
    {
        if (value == "auto") return null;
        if (Capture.Origin.OriginBackends.TryParse(value, out var b)) return b;
        throw new WhyfailException($"--backend: unknown backend '{value}': choose auto, kretprobe.multi, fexit, kretprobe or none", ExitCodes.Usage);
    }

    /// <summary>Smallest and largest --buffer-size: one page, and 1 GiB.</summary>
    internal const long MinBufferSize = 4096, MaxBufferSize = 1L << 30;

    /// <summary>
    /// --buffer-size: a number of bytes with an optional K, M or G suffix (powers of 1024), from 4K to 1G.
    /// Outside that range it is refused with the limits, never rounded in silence.
    /// </summary>
    internal static int ParseSize(string text)
    {
        var s = text.Trim();
        long mult = 1;
        if (s.Length > 0 && char.ToUpperInvariant(s[^1]) is 'K' or 'M' or 'G')
        {
            mult = char.ToUpperInvariant(s[^1]) switch { 'K' => 1L << 10, 'M' => 1L << 20, _ => 1L << 30 };
            s = s[..^1];
        }
        if (!long.TryParse(s, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long n))
            throw new WhyfailException($"--buffer-size: '{text}' is not a size: give bytes or a number with K, M or G (16M)", ExitCodes.Usage);
        if (n > MaxBufferSize / mult)
            throw new WhyfailException($"--buffer-size: '{text}' is more than the largest ring buffer, 1G", ExitCodes.Usage);
        if (n * mult < MinBufferSize)
            throw new WhyfailException($"--buffer-size: '{text}' is less than the smallest ring buffer, 4K (one page)", ExitCodes.Usage);
        return (int)(n * mult);
    }

    private static Command ErrnoCommand()
    {
        var value = new Argument<string[]>("errno") { Description = "Names or numbers (ENOENT, 2, 512, ERESTARTSYS)", Arity = ArgumentArity.OneOrMore };
        var cmd = new Command("errno", "Show an errno's name, number and message, including kernel-internal codes (512–531)");
        cmd.Arguments.Add(value);
        cmd.SetAction(pr => Guard(() =>
        {
            int rc = 0;
            foreach (var v in pr.GetValue(value)!)
            {
                if (Errno.TryParse(v, out int e))
                    Console.WriteLine($"{Errno.Name(e) ?? "?"} {e} {Errno.Message(e)}{(Errno.IsInternal(e) ? " (kernel-internal: never returned to user space)" : "")}");
                else
                {
                    var close = Errno.Suggest(v);
                    Console.Error.WriteLine($"whyfail: unknown errno '{v}'" + (close.Count > 0 ? $"; did you mean {string.Join(", ", close)}?" : ""));
                    rc = ExitCodes.Usage;
                }
            }
            return rc;
        }));
        return cmd;
    }
}
