namespace Whyfail;

public static class Program
{
    public static int Main(string[] args) => Cli.WhyfailCli.Run(args);
}
