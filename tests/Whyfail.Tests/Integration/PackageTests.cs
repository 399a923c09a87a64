using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Xunit;

namespace Whyfail.Tests.Integration;

/// <summary>The Debian package (out/whyfail_VERSION_amd64.deb, made by build.sh) and the systemd unit it ships.</summary>
public static class Package
{
    /// <summary>The .deb: WHYFAIL_DEB (the lab's snapshot), else the one beside WHYFAIL_BIN (out/).</summary>
    public static string? Deb =>
        Environment.GetEnvironmentVariable("WHYFAIL_DEB") is { Length: > 0 } d && File.Exists(d) ? d
        : Environment.GetEnvironmentVariable("WHYFAIL_BIN") is { Length: > 0 } bin && Path.GetDirectoryName(bin) is { } dir && Directory.Exists(dir)
            ? Directory.GetFiles(dir, "whyfail_*_amd64.deb").FirstOrDefault() : null;

    public static string Repo => Path.GetFullPath(Path.Combine(WhyfailRunner.BaseDir, "../../../../.."));

    public static (int Code, string Output) Sh(string script, TimeSpan? timeout = null)
    {
        var psi = new ProcessStartInfo("/bin/sh", ["-c", script + " 2>&1"]) { RedirectStandardOutput = true, RedirectStandardInput = true };
        using var p = Process.Start(psi)!;
        p.StandardInput.Close();
        var output = p.StandardOutput.ReadToEndAsync();
        if (!p.WaitForExit(timeout ?? TimeSpan.FromMinutes(5))) { p.Kill(true); throw new TimeoutException(script); }
        return (p.ExitCode, output.Result);
    }

    /// <summary>The unit's ExecStart= words.</summary>
    public static string[] ExecStart(string unitText) =>
        Regex.Match(unitText, @"^ExecStart=(.+)$", RegexOptions.Multiline).Groups[1].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    public static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    /// <summary>
    /// Runs the unit's ExecStart line for a few seconds (with <paramref name="prefix"/> in front: setpriv on the
    /// host), checks its start line and its /metrics, and ends it with SIGTERM as systemd would.
    /// </summary>
    public static (string Log, string Metrics) RunExecStart(string[] words, string[] prefix)
    {
        int port = FreePort();
        // The unit's metrics port is 9464 on loopback; another test's whyfail or a real exporter may hold it.
        var args = words.Select(w => w == "127.0.0.1:9464" ? $"127.0.0.1:{port}" : w).ToArray();
        string log = Array.IndexOf(args, "-o") is var o and >= 0 ? args[o + 1] : throw new InvalidOperationException("the unit writes no -o file");
        Directory.CreateDirectory(Path.GetDirectoryName(log)!); // LogsDirectory=: systemd makes it
        File.Delete(log);
        var psi = new ProcessStartInfo(prefix.Length > 0 ? prefix[0] : args[0]) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in prefix.Skip(1).Concat(prefix.Length > 0 ? args : args.Skip(1))) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        try
        {
            var stderr = p.StandardError.ReadToEndAsync();
            var sw = Stopwatch.StartNew();
            while (!(File.Exists(log) && StartLine(log).Contains("tracing every process")) && !p.HasExited && sw.Elapsed < TimeSpan.FromMinutes(3))
                Thread.Sleep(200);
            // (The message is built only once it exited: stderr.Result waits for the end of whyfail's stderr.)
            if (p.HasExited) Assert.Fail($"the unit's ExecStart exited with {p.ExitCode}: {stderr.Result}");
            Assert.True(File.Exists(log) && StartLine(log).Contains("tracing every process"), "the unit's whyfail did not start tracing within 3 minutes");
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
            string metrics = http.GetStringAsync($"http://127.0.0.1:{port}/metrics").GetAwaiter().GetResult();
            // Every process on the machine: under the load of a busy machine the session must still see SIGTERM.
            Process.Start("kill", ["-TERM", p.Id.ToString()])!.WaitForExit();
            Assert.True(p.WaitForExit(TimeSpan.FromMinutes(2)), "whyfail did not end on SIGTERM");
            Assert.True(p.ExitCode == 0, $"exit {p.ExitCode}: {stderr.Result}");
            return (StartLine(log) + "\n", metrics);
        }
        finally
        {
            if (!p.HasExited) p.Kill();
        }
    }

    /// <summary>The start line of the report (a --system log grows fast: only its notices are read).</summary>
    private static string StartLine(string path)
    {
        using var r = new StreamReader(path);
        string? line;
        while ((line = r.ReadLine()) != null)
            if (line.StartsWith("whyfail: tracing ")) return line;
        return "";
    }
}

/// <summary>Host checks of the package: lintian finds no error, and the unit's ExecStart works with only the unit's capabilities.</summary>
[Collection("tracing")]
[Trait("suite", "integration")]
[Trait("lab", "skip")]
public class PackageTests
{
    [FactRequiring("lintian")]
    public void LintianFindsNoErrorOrWarning()
    {
        string deb = Package.Deb ?? throw new InvalidOperationException("no out/whyfail_*_amd64.deb: build.sh makes it");
        var (code, output) = Package.Sh($"lintian --tag-display-limit 0 '{deb}'");
        Assert.True(code == 0, output);
        Assert.DoesNotMatch(@"(?m)^[EW]: ", output);
    }

    /// <summary>
    /// No systemd here: the unit's ExecStart runs under setpriv with no new privileges and the unit's
    /// CapabilityBoundingSet as bounding set, which is what systemd does with those two lines.
    /// </summary>
    [FactRequiring("setpriv")]
    public void TheUnitsCommandRunsWithOnlyTheUnitsCapabilities()
    {
        string unit = File.ReadAllText(Path.Combine(Package.Repo, "packaging/whyfail.service"));
        var caps = Regex.Match(unit, @"^CapabilityBoundingSet=(.+)$", RegexOptions.Multiline).Groups[1].Value
            .Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(c => "+" + c["CAP_".Length..].ToLowerInvariant());
        Assert.Contains("NoNewPrivileges=yes", unit);
        var words = Package.ExecStart(unit);
        Assert.Equal("/usr/bin/whyfail", words[0]);
        string bin = Environment.GetEnvironmentVariable("WHYFAIL_BIN") is { Length: > 0 } b && File.Exists(b) ? b : throw new InvalidOperationException("WHYFAIL_BIN (out/whyfail) is needed");
        string dir = Directory.CreateTempSubdirectory("wf-unit-").FullName;
        try
        {
            words[0] = bin;
            words = words.Select(w => w == "/var/log/whyfail/whyfail.log" ? Path.Combine(dir, "whyfail.log") : w).ToArray();
            var (log, metrics) = Package.RunExecStart(words, ["setpriv", "--no-new-privs", $"--bounding-set=-all,{string.Join(",", caps)}", "--"]);
            Assert.Contains("whyfail: tracing every process on this machine: failing calls", log);
            Assert.Contains("whyfail_probes_attached{kind=\"bpf_program\"}", metrics);
            Assert.DoesNotContain("whyfail_probes_attached{kind=\"bpf_program\"} 0", metrics);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}

/// <summary>
/// In a lab guest (its root is an overlay in RAM, so installing changes nothing on the host): dpkg -i the
/// package, whyfail doctor and the README's example from /usr/bin, the unit's ExecStart line, dpkg -r.
/// </summary>
[Collection("tracing")]
[Trait("kernel", "lab")]
public class PackageLabTests
{
    [FactInLabGuest]
    public void TheDebInstallsRunsAndRemoves()
    {
        string deb = Package.Deb ?? throw new InvalidOperationException("no whyfail .deb (WHYFAIL_DEB): run ./build.sh before tests/vm/run-tests");
        // man-db's trigger re-indexes every manual page of the guest's root, which is the host's over 9p:
        // minutes under TCG (dpkg -i did not finish in 5). Without this file the trigger skips the index
        // (the guest's root is a RAM overlay, so the host keeps its own); dpkg -i then takes ~20 s on 6.12.
        File.Delete("/var/lib/man-db/auto-update");
        var (code, output) = Package.Sh($"dpkg -i '{deb}'");
        Assert.True(code == 0, output);
        try
        {
            Assert.True(File.Exists("/usr/bin/whyfail"));
            Assert.True(File.Exists("/usr/share/man/man1/whyfail.1.gz"));
            Assert.True(File.Exists("/usr/share/doc/whyfail/json.md"));
            Assert.True(File.Exists("/usr/share/bash-completion/completions/whyfail"));
            (code, output) = Package.Sh("/usr/bin/whyfail doctor");
            Assert.True(code == 0, output);
            Assert.Contains("sys_exit tracepoint", output);
            // The README's example: nobody cannot read /etc/shadow, and /etc/passwdd does not exist.
            (code, output) = Package.Sh("/usr/bin/whyfail --deep none -u nobody -- cat /etc/shadow /etc/passwdd", TimeSpan.FromMinutes(5));
            Assert.True(code == 1, output); // cat's own status
            Assert.Contains("openat(AT_FDCWD, \"/etc/shadow\", O_RDONLY) = -1 EACCES (Permission denied)", output);
            Assert.Contains("openat(AT_FDCWD, \"/etc/passwdd\", O_RDONLY) = -1 ENOENT (No such file or directory)", output);
            var (log, metrics) = Package.RunExecStart(Package.ExecStart(File.ReadAllText("/lib/systemd/system/whyfail.service")), []);
            Assert.Contains("whyfail: tracing every process on this machine", log);
            Assert.Contains("whyfail_probes_attached{kind=\"bpf_program\"}", metrics);
        }
        finally
        {
            (code, output) = Package.Sh("dpkg -r whyfail");
        }
        Assert.True(code == 0, output);
        Assert.False(File.Exists("/usr/bin/whyfail"), "dpkg -r left /usr/bin/whyfail");
    }
}
