using System.Diagnostics;

namespace Whyfail;

/// <summary>Starting whyfail's own executable again (the launcher, the link reaper), native or as `dotnet whyfail.dll`.</summary>
public static class SelfExec
{
    /// <summary>A start info for whyfail itself; the caller adds the verb and its arguments.</summary>
    public static ProcessStartInfo StartInfo()
    {
        var psi = new ProcessStartInfo { UseShellExecute = false };
        var self = Environment.ProcessPath ?? throw new WhyfailException("cannot find whyfail's own executable", ExitCodes.Internal);
        psi.FileName = self;
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
            psi.ArgumentList.Add(typeof(SelfExec).Assembly.Location); // running as `dotnet whyfail.dll`
        return psi;
    }
}
