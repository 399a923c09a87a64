using System.CommandLine;
using Whyfail.Cli;
using Whyfail.Decoding;

namespace Whyfail.Graph;

/// <summary>`whyfail graph`: the kernel call tree of only the failing invocations of a syscall.</summary>
public static class GraphCommand
{
    private const string About = """
        Record the kernel's call tree (function_graph) of each invocation of a syscall by a command or
        running processes, keep only the failing ones, and show them as an indented tree with the
        error's path marked (> in text): the path to where the error was born when an origin backend
        (kprobes or fexit) can watch return values, otherwise the last calls before the return.
        Long subtrees off that path are folded (… N calls). With --diff, each failing call is also
        compared with a successful call of the same syscall from the same process: where the two
        trees part, and what the failing one never reached.

        Needs the function_graph tracer (CONFIG_FUNCTION_GRAPH_TRACER, not hidden by lockdown): see
        `whyfail doctor`. It runs in a private tracefs instance where the kernel allows it (Linux
        6.9+), else on the top-level tracer when that is idle; either is restored at exit.

        Examples:
          whyfail graph --syscall io_uring_setup --diff -- ./server
          whyfail graph --syscall perf_event_open --errno EINVAL -p 1234
          whyfail graph --syscall openat --html -o tree.html -- cat /nonexistent
          whyfail graph --json -o rec.jsonl --syscall bpf -- ./loader     (schema: docs/json.md)
          whyfail graph --input rec.jsonl --html -o rec.html              (view a recording)
        """;

    public static Command Build()
    {
        var syscall = new Option<string[]>("--syscall", "-e") { Description = "The syscall(s) whose call trees are recorded, comma separated (required)", HelpName = "LIST" };
        var errnos = new Option<string[]>("--errno") { Description = "Only failures with these errors: names or numbers, comma separated", HelpName = "LIST" };
        var diff = new Option<bool>("--diff") { Description = "Compare each failing tree with a successful call of the same syscall from the same process" };
        var pids = new Option<string[]>("--pid", "-p") { Description = "Record running processes (and their new children): PID[,PID...]", HelpName = "PID" };
        var output = new Option<string?>("--output", "-o") { Description = "Write to FILE instead of standard error (never follows a symlink)", HelpName = "FILE" };
        var json = new Option<bool>("--json") { Description = "JSON Lines: one \"graph\" object per failing call with its whole tree (docs/json.md)" };
        var html = new Option<bool>("--html") { Description = "A self-contained HTML page: collapsible trees, error path open and marked" };
        var input = new Option<string?>("--input") { Description = "Show a recording made with --json instead of tracing", HelpName = "FILE" };
        var backend = new Option<string>("--backend") { Description = "Origin backend for return values and the error path: auto, kretprobe.multi, fexit, kretprobe, none", DefaultValueFactory = _ => "auto", HelpName = "NAME" };
        var budget = new Option<int>("--deep-budget") { Description = "At most this many kernel functions watched for return values", DefaultValueFactory = _ => 300, HelpName = "N" };
        var fold = new Option<int>("--fold") { Description = "Fold subtrees off the error path with more than N calls (text)", DefaultValueFactory = _ => 12, HelpName = "N" };
        var color = new Option<Tracing.ColorMode>("--color") { Description = "Colour the text output", DefaultValueFactory = _ => Tracing.ColorMode.Auto };
        var command = new Argument<string[]>("command") { Description = "The command to run and record, after --", Arity = ArgumentArity.ZeroOrMore };

        var cmd = new Command("graph", About);
        var args = new Option<bool>("--args") { Description = "Show the arguments of the functions on the error path whose error return was recorded, typed from BTF (structs one level deep, strings, pointers as addresses). Needs an origin backend: kprobes or fexit" };
        foreach (Option o in new Option[] { syscall, errnos, diff, pids, output, json, html, input, backend, budget, fold, color, args })
            cmd.Options.Add(o);
        cmd.Arguments.Add(command);
        cmd.Validators.Add(r =>
        {
            bool hasInput = r.GetValue(input) != null;
            int modes = (r.GetValue(command) is { Length: > 0 } ? 1 : 0) + (r.GetValue(pids) is { Length: > 0 } ? 1 : 0) + (hasInput ? 1 : 0);
            if (modes == 0) r.AddError("nothing to record: give a command after --, -p PID, or --input FILE (see whyfail graph --help)");
            else if (modes > 1) r.AddError("choose one of: a command, -p PID, --input FILE");
            if (!hasInput && r.GetValue(syscall) is not { Length: > 0 })
                r.AddError("--syscall is required: which syscall's call trees to record (e.g. --syscall io_uring_setup)");
            if (r.GetValue(json) && r.GetValue(html)) r.AddError("choose one of --json and --html");
            if (r.GetValue(fold) < 0) r.AddError("--fold must be 0 or more");
        });
        cmd.SetAction(pr => WhyfailCli.Guard(() =>
        {
            var names = new List<string>();
            foreach (var name in (pr.GetValue(syscall) ?? []).SelectMany(s => s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
            {
                if (!SyscallTable.TryGetNumber(name, out _))
                {
                    var close = SyscallTable.Suggest(name);
                    throw new WhyfailException($"--syscall: unknown syscall '{name}'" + (close.Count > 0 ? $"; did you mean {string.Join(", ", close)}?" : ""), ExitCodes.Usage);
                }
                names.Add(name);
            }
            var settings = new GraphSettings
            {
                Command = pr.GetValue(command) ?? [],
                Pids = WhyfailCli.ParsePids(pr.GetValue(pids)),
                Syscalls = names,
                Errnos = WhyfailCli.ParseErrnos(pr.GetValue(errnos)),
                Diff = pr.GetValue(diff),
                OutputFile = pr.GetValue(output),
                Json = pr.GetValue(json),
                Html = pr.GetValue(html),
                Input = pr.GetValue(input),
                Backend = WhyfailCli.ParseBackend(pr.GetValue(backend)!),
                DeepBudget = pr.GetValue(budget),
                FoldAbove = pr.GetValue(fold),
                Color = pr.GetValue(color),
                Args = pr.GetValue(args),
            };
            return new GraphSession(settings, Console.Error).Run();
        }));
        return cmd;
    }
}
