namespace Whyfail.Cli;

public static class WhyfailCli
{
    public static int Run(string[] args) => 0;
}
