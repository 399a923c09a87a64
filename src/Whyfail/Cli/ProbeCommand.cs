using System.CommandLine;
using Whyfail.Analysis.Probe;
using Whyfail.Tracing;

namespace Whyfail.Cli;

/// <summary>`whyfail probe FUNCTION`: test one hypothesis about kernel functions (whythefail.stp's method).</summary>
public static class ProbeCommand
{
    private const string About = """
        Watch every call of one kernel function (or several, comma separated) made by a command or running
        processes, and report the calls whose return value meets --when: the return value, with --args the
        arguments (from the kernel's BTF: structs one level deep, strings, pointers as addresses), and with
        --lines the source lines the call executed, in order, with the local variables at each (from the
        kernel's debug info; ? where it has no location for one there). Calls are kept until they return
        and forgotten when the condition does not hold (speculative tracing, as SystemTap's whythefail.stp
        does). At exit: entries, exits matching and not matching, lines seen, lines that could not be probed.

        Needs kprobes (`whyfail doctor`); --lines needs the kernel's debug vmlinux (--vmlinux, or
        linux-image-$(uname -r)-dbg). Only the probed function's compilation unit is read from it (a few
        MB of the 600 MB file, under a second).

        --when: comparisons of ret with numbers or error names, && and ||, parentheses:
          'ret == -EINVAL'   'ret < 0'   'ret == -EPERM || ret == -EACCES'   (no --when: every call)

        Example (why does perf_event_open say EINVAL?):
          whyfail probe perf_copy_attr --when 'ret == -EINVAL' --lines -- ./prog
          whyfail probe security_perf_event_open,perf_copy_attr --when 'ret < 0' --args -p 1234
        """;

    public static Command Build()
    {
        var functions = new Argument<string>("functions") { Description = "Kernel function(s) to probe, comma separated", HelpName = "FUNCTION[,FUNCTION...]" };
        var when = new Option<string?>("--when") { Description = "Report only the calls whose return value meets this condition (e.g. 'ret == -EINVAL')", HelpName = "EXPR" };
        var args = new Option<bool>("--args") { Description = "Show each reported call's arguments (from BTF)" };
        var lines = new Option<bool>("--lines") { Description = "Show the source lines each reported call executed and the locals at each (needs debug info)" };
        var pids = new Option<string[]>("--pid", "-p") { Description = "Watch running processes (and their new children): PID[,PID...]", HelpName = "PID" };
        var user = new Option<string?>("--user", "-u") { Description = "Run the command as USER", HelpName = "USER" };
        var output = new Option<string?>("--output", "-o") { Description = "Write to FILE instead of standard error (never follows a symlink)", HelpName = "FILE" };
        var json = new Option<bool>("--json") { Description = "JSON Lines: a \"probe_call\" object per reported call, a \"probe_stats\" object at exit (docs/json.md)" };
        var vmlinux = new Option<string?>("--vmlinux") { Description = "The kernel's debug vmlinux (default: the distribution's debug package)", HelpName = "PATH" };
        var maxLines = new Option<int>("--max-lines") { Description = "At most N line addresses probed in all (each is a kprobe)", DefaultValueFactory = _ => 400, HelpName = "N" };
        var command = new Argument<string[]>("command") { Description = "The command to run, after --", Arity = ArgumentArity.ZeroOrMore };

        var cmd = new Command("probe", About);
        cmd.Arguments.Add(functions);
        foreach (Option o in new Option[] { when, args, lines, pids, user, output, json, vmlinux, maxLines })
            cmd.Options.Add(o);
        cmd.Arguments.Add(command);
        cmd.Validators.Add(r =>
        {
            int modes = (r.GetValue(command) is { Length: > 0 } ? 1 : 0) + (r.GetValue(pids) is { Length: > 0 } ? 1 : 0);
            if (modes == 0) r.AddError("nothing to watch: give a command after -- or -p PID (see whyfail probe --help)");
            else if (modes > 1) r.AddError("choose one of: a command, -p PID");
        });
        cmd.SetAction(pr => WhyfailCli.Guard(() =>
        {
            var names = (pr.GetValue(functions) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct().ToList();
            if (names.Count == 0) throw new WhyfailException("probe: name at least one kernel function", ExitCodes.Usage);
            var condition = WhenCondition.Always;
            if (pr.GetValue(when) is { } text)
            {
                try
                {
                    condition = WhenCondition.Parse(text);
                }
                catch (FormatException e)
                {
                    throw new WhyfailException($"--when: {e.Message}", ExitCodes.Usage);
                }
            }
            var settings = new ProbeSettings
            {
                Functions = names,
                When = condition,
                Args = pr.GetValue(args),
                Lines = pr.GetValue(lines),
                Command = pr.GetValue(command) ?? [],
                Pids = WhyfailCli.ParsePids(pr.GetValue(pids)),
                User = pr.GetValue(user),
                OutputFile = pr.GetValue(output),
                Json = pr.GetValue(json),
                Vmlinux = pr.GetValue(vmlinux),
                MaxLines = pr.GetValue(maxLines) is var n and > 0 ? n : throw new WhyfailException("--max-lines must be 1 or more", ExitCodes.Usage),
            };
            return new ProbeSession(settings).Run();
        }));
        return cmd;
    }
}
