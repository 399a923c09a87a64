namespace Whyfail;

/// <summary>whyfail-launch __launch GOFD CREDS EXECUTABLE ARGV0 ARGV...: see <see cref="Tracing.LauncherChild"/>.</summary>
public static class LaunchProgram
{
    public static int Main(string[] args)
    {
        if (args.Length == 0 || args[0] != "__launch")
        {
            Console.Error.WriteLine("whyfail-launch: started by whyfail only (whyfail -- COMMAND)");
            return ExitCodes.Usage;
        }
        try
        {
            return Tracing.LauncherChild.Run(args);
        }
        catch (Exception e)
        {
            // As whyfail's own guard: an internal error (exit 70), never a runtime crash with a stack trace.
            try { Console.Error.WriteLine($"whyfail: internal error in the launcher: {e.Message}"); }
            catch (IOException) { }
            return ExitCodes.Internal;
        }
    }
}
