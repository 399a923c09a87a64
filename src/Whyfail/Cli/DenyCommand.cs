using System.CommandLine;
using Whyfail.Tracing;
using Whyfail.Tracing.Deny;

namespace Whyfail.Cli;

/// <summary>`whyfail deny RULE...`: refuse operations matching rules, system-wide, until Ctrl-C or SIGTERM.</summary>
public static class DenyCommand
{
    private const string About = """
        Refuse operations that match rules, for every process on the machine, until Ctrl-C or SIGTERM,
        and report each refusal as whyfail reports any failing call: decoded, with an explanation that
        names the rule (BPF LSM programs; nothing stays attached when whyfail exits, even if killed).

        Rules (at most 8; the first rule of a kind that matches decides):
          create=GLOB   a new file, directory, device node, symlink, hard link or rename target whose
                        name (the last component) matches, e.g. create=*.exe  (badname.stp's case)
          open=GLOB     opening a file whose absolute path matches (exec opens its file too)
          exec=GLOB     executing a file whose absolute path matches (a script's interpreter too)
          bind=PORT     binding an IPv4 or IPv6 socket to the port
        each optionally followed by
          :errno=E      the error the refused call gets (default EACCES)
          :user=U,...   only for these users (names or uids, compared with the effective uid)
          :user=!U,...  for every user but these
          :comm=NAME    only for processes of this name (as in /proc/PID/comm)
        GLOB: * any characters but '/', ** any characters including '/' (a/**/b also matches a/b),
        ? one character but '/', \c the character c (\: a colon, \* a star). Quote rules in the shell.

        Examples:
          whyfail deny 'create=*.exe:user=!root'           only root may create *.exe files
          whyfail deny 'open=/etc/shadow*:comm=cat'        cat may not open /etc/shadow or its backups
          whyfail deny 'exec=/tmp/**' 'exec=/dev/shm/**'  nothing runs from /tmp or /dev/shm
          whyfail deny 'bind=8080:errno=EADDRINUSE'        port 8080 looks taken, to test a fallback
          whyfail deny --json -o refusals.jsonl 'open=/srv/secret/**:user=www-data'

        Output: one entry per refused call, marked "(denied by rule N)" (JSON: "denied_by"), and at the
        end the refusals per rule from the kernel's counters. Exit status 4 where the kernel has no BPF
        LSM (whyfail doctor's "deny" row says why).
        """;

    public static Command Build()
    {
        var rules = new Argument<string[]>("rule") { Description = "WHAT=PATTERN[:errno=E][:user=[!]U,...][:comm=NAME] (see above)", Arity = ArgumentArity.OneOrMore };
        var allFailures = new Option<bool>("--all-failures") { Description = "Report every failing call on the machine too, not only the refusals" };
        var output = new Option<string?>("--output", "-o") { Description = "Write the report to FILE instead of standard error (SIGHUP reopens it)", HelpName = "FILE" };
        var json = new Option<bool>("--json") { Description = "JSON Lines output (docs/json.md; a refused call has \"denied_by\")" };
        var noExplain = new Option<bool>("--no-explain") { Description = "Do not explain the calls (refusals are still marked with their rule)" };
        var strLimit = new Option<int>("--string-limit", "-s") { Description = "Maximum string length shown", DefaultValueFactory = _ => 64, HelpName = "N" };
        var color = new Option<ColorMode>("--color") { Description = "Colour the text output", DefaultValueFactory = _ => ColorMode.Auto };
        var bufferSize = new Option<string>("--buffer-size") { Description = "Kernel ring buffer size of the trace, 4K to 1G", DefaultValueFactory = _ => "16M", HelpName = "SIZE" };

        var cmd = new Command("deny", About);
        cmd.Arguments.Add(rules);
        foreach (Option o in new Option[] { allFailures, output, json, noExplain, strLimit, color, bufferSize })
            cmd.Options.Add(o);
        cmd.SetAction(pr => WhyfailCli.Guard(() =>
        {
            var parsed = DenyParser.ParseAll(pr.GetValue(rules) ?? []);
            bool all = pr.GetValue(allFailures);
            var settings = new TraceSettings
            {
                System = true,
                Deny = parsed,
                DenyAllFailures = all,
                // Only the rules' errors reach user space unless every failure is wanted: the kernel filters the rest.
                Errnos = all ? null : parsed.Select(r => r.Errno).ToHashSet(),
                OutputFile = pr.GetValue(output),
                Json = pr.GetValue(json),
                Routine = true, // every refusal is shown, none folded
                Explain = !pr.GetValue(noExplain),
                StringLimit = pr.GetValue(strLimit),
                Color = pr.GetValue(color),
                BufferBytes = WhyfailCli.ParseSize(pr.GetValue(bufferSize)!),
                DeepSyscalls = [], // the cause is known: no kernel origins to watch
            };
            return new TraceSession(settings, Console.Error).Run();
        }));
        return cmd;
    }
}
