namespace Whyfail;

public static class Program
{
    public static int Main(string[] args)
    {
        // Messages to standard error never throw (a full disk, a closed descriptor): whyfail's own error
        // message must not turn into a crash. The report's writer checks its own output (GuardedOutput).
        Console.SetError(new StreamWriter(new Rendering.GuardedOutput(Console.OpenStandardError(), "standard error")) { AutoFlush = true });
        return Cli.WhyfailCli.Run(args);
    }
}
