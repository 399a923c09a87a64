using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Xunit;

namespace Whyfail.Tests.Integration;

/// <summary>
/// --metrics scraped by the real Prometheus server (Debian's prometheus package): whyfail --system watches a
/// uniquely named program that really fails, Prometheus scrapes whyfail's /metrics every second, and the test
/// asks Prometheus's HTTP API (/api/v1/query) for the series and compares them with whyfail's own JSON report.
/// </summary>
[Collection("tracing")]
[Trait("suite", "integration")]
[Trait("lab", "skip")] // Prometheus under QEMU's software CPU adds minutes for nothing the host does not show
public class PrometheusTests
{
    private const int Repeats = 5;

    [FactRequiring("prometheus")]
    public void PrometheusScrapesFailuresByRuleLostEventsAndProbes()
    {
        string name = "wfprom" + Guid.NewGuid().ToString("N")[..8];
        string copy = Path.Combine(Path.GetTempPath(), name);
        string dir = Directory.CreateTempSubdirectory("whyfail-prometheus-").FullName;
        File.Copy(WhyfailRunner.Program("open_missing"), copy);
        int metricsPort = FreePort(), promPort = FreePort();
        Process? prometheus = null;
        var queried = new Dictionary<string, double>();
        try
        {
            var run = WhyfailRunner.Run(["--system", "--comm", name, "--metrics", $"127.0.0.1:{metricsPort}"], TimeSpan.FromMinutes(5), (whyfail, output) =>
            {
                TraceTests.WaitForAttach(whyfail, output);
                prometheus = StartPrometheus(dir, metricsPort, promPort);
                var paths = Enumerable.Range(0, 3).Select(i => $"/nonexistent-whyfail/prom-{i}-{Guid.NewGuid():N}").ToArray();
                using (var p = Process.Start(new ProcessStartInfo(copy, paths) { RedirectStandardOutput = true })!)
                    p.WaitForExit();
                // A run of one failure: each copy of the path but the last is judged when its thread repeats it.
                string same = $"/nonexistent-whyfail/prom-same-{Guid.NewGuid():N}";
                using (var p = Process.Start(new ProcessStartInfo(copy, Enumerable.Repeat(same, Repeats)) { RedirectStandardOutput = true })!)
                    p.WaitForExit();
                // Prometheus has the series once a scrape after the failures went through.
                string openat = $"whyfail_failures_total{{syscall=\"openat\",errno=\"ENOENT\",rule=\"path.missing_component\",job=\"whyfail\"}}";
                queried["openat"] = WaitForValue(promPort, openat, v => v >= 3 + Repeats);
                queried["repeat"] = WaitForValue(promPort, "whyfail_verdict_judged_at_repeat_total{job=\"whyfail\"}", v => v >= Repeats - 1);
                queried["early"] = WaitForValue(promPort, "whyfail_verdict_judged_early_total{job=\"whyfail\"}", _ => true);
                queried["comm"] = WaitForValue(promPort, $"whyfail_failures_by_comm_total{{comm=\"{name}\"}}", v => v >= 3);
                queried["lost"] = WaitForValue(promPort, "whyfail_events_lost_total{job=\"whyfail\"}", _ => true);
                queried["programs"] = WaitForValue(promPort, "whyfail_probes_attached{kind=\"bpf_program\",job=\"whyfail\"}", _ => true);
                queried["up"] = WaitForValue(promPort, "up{job=\"whyfail\"}", _ => true);
                Process.Start("kill", ["-TERM", whyfail.Id.ToString()])!.WaitForExit();
            });
            Assert.True(run.ExitCode == 0, run.ToString());
            // What Prometheus stored is what whyfail reported, call for call.
            Assert.Equal(run.Failures("openat", "ENOENT").Count(), (int)queried["openat"]);
            Assert.Equal(3 + Repeats, (int)queried["openat"]);
            Assert.Equal(run.Summary.GetProperty("judged_at_repeat").GetInt64(), (long)queried["repeat"]);
            Assert.Equal(Repeats - 1, (int)queried["repeat"]);
            Assert.Equal(run.Summary.GetProperty("judged_early").GetInt64(), (long)queried["early"]);
            Assert.Equal(run.Syscalls.Count(), (int)queried["comm"]);
            Assert.Equal(run.Summary.GetProperty("lost").GetInt64(), (long)queried["lost"]);
            Assert.True(queried["programs"] >= 3, $"bpf programs attached: {queried["programs"]}");
            Assert.Equal(1, queried["up"]);
        }
        finally
        {
            if (prometheus is { HasExited: false }) prometheus.Kill();
            prometheus?.WaitForExit();
            File.Delete(copy);
            Directory.Delete(dir, recursive: true);
        }
    }

    private static Process StartPrometheus(string dir, int target, int port)
    {
        File.WriteAllText(Path.Combine(dir, "prometheus.yml"), $"""
            global:
              scrape_interval: 1s
              scrape_timeout: 1s
            scrape_configs:
              - job_name: whyfail
                static_configs:
                  - targets: ["127.0.0.1:{target}"]
            """);
        var psi = new ProcessStartInfo(FactRequiringAttribute.Which("prometheus")!)
        {
            ArgumentList = { $"--config.file={dir}/prometheus.yml", $"--storage.tsdb.path={dir}/data", $"--web.listen-address=127.0.0.1:{port}" },
            RedirectStandardError = true, RedirectStandardOutput = true,
        };
        var p = Process.Start(psi)!;
        p.ErrorDataReceived += (_, _) => { };
        p.BeginErrorReadLine();
        p.BeginOutputReadLine();
        return p;
    }

    /// <summary>Asks Prometheus for an instant vector of one series until <paramref name="ok"/> holds for its value.</summary>
    private static double WaitForValue(int port, string query, Func<double, bool> ok)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var sw = Stopwatch.StartNew();
        string last = "";
        while (sw.Elapsed < TimeSpan.FromSeconds(90))
        {
            try
            {
                last = http.GetStringAsync($"http://127.0.0.1:{port}/api/v1/query?query={Uri.EscapeDataString(query)}").GetAwaiter().GetResult();
                var result = JsonDocument.Parse(last).RootElement.GetProperty("data").GetProperty("result");
                if (result.GetArrayLength() == 1)
                {
                    double v = double.Parse(result[0].GetProperty("value")[1].GetString()!, System.Globalization.CultureInfo.InvariantCulture);
                    if (ok(v)) return v;
                }
            }
            catch (HttpRequestException) { } // not listening yet
            Thread.Sleep(500);
        }
        throw new TimeoutException($"Prometheus never answered {query} as expected; last answer: {last}");
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}
