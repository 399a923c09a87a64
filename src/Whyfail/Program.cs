namespace Whyfail;

public static class Program
{
    public static int Main(string[] args)
    {
        // Messages to standard error never throw (a full disk, a closed descriptor): whyfail's own error
        // message must not turn into a crash. The report's writer checks its own output (GuardedOutput).
        Console.SetError(new StreamWriter(new Rendering.GuardedOutput(Console.OpenStandardError(), "standard error")) { AutoFlush = true });
        // The last resort: an exception no guard caught, on this thread or another, is an internal error
        // (exit 70, as documented), never a runtime crash with a stack trace.
        AppDomain.CurrentDomain.UnhandledException += (_, e) =>
            Environment.Exit(Cli.WhyfailCli.Report(e.ExceptionObject as Exception ?? new Exception(e.ExceptionObject?.ToString())));
        try
        {
            int status = Cli.WhyfailCli.Run(args);
            if (args.Length == 0 || !args[0].StartsWith("__", StringComparison.Ordinal)) Capture.StartupTimes.Mark("exiting");
            return status;
        }
        catch (Exception e)
        {
            return Cli.WhyfailCli.Report(e);
        }
    }
}
