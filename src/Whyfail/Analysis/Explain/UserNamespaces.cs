using System.Diagnostics;

namespace Whyfail.Analysis.Explain;

/// <summary>
/// The per-user-namespace limits of /proc/sys/user (max_inotify_instances, max_user_namespaces, …) as a process in
/// another user namespace sees them. /proc/sys/user shows the reader's own namespace, and whyfail (multithreaded)
/// cannot join another one, so a short-lived nsenter reads them from inside.
/// </summary>
internal static class UserNamespaces
{
    /// <summary>The user namespace link of a process ("user:[4026531837]"), or null when it is gone.</summary>
    public static string? Of(int pid) => Native.ReadLink($"/proc/{pid}/ns/user");

    /// <summary>True when the process lives in a user namespace other than whyfail's.</summary>
    public static bool IsOther(int pid) => Of(pid) is { } a && Of(Environment.ProcessId) is { } b && a != b;

    /// <summary>/proc/sys/user/NAME read inside the process's user namespace, or null.</summary>
    public static long? Limit(int pid, string name)
    {
        if (name.Contains('/') || name.Contains("..", StringComparison.Ordinal)) return null;
        var psi = new ProcessStartInfo("nsenter") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "-U", "-t", pid.ToString(System.Globalization.CultureInfo.InvariantCulture), "--preserve-credentials", "cat", $"/proc/sys/user/{name}" })
            psi.ArgumentList.Add(a);
        try
        {
            using var p = Process.Start(psi);
            if (p is null) return null;
            var text = p.StandardOutput.ReadToEnd();
            if (!p.WaitForExit(2000)) { p.Kill(); return null; }
            return p.ExitCode == 0 && long.TryParse(text.Trim(), System.Globalization.CultureInfo.InvariantCulture, out var v) ? v : null;
        }
        catch (System.ComponentModel.Win32Exception) { return null; }
    }
}
