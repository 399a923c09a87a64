using System.Diagnostics;
using Xunit;

namespace Whyfail.Tests.Integration;

/// <summary>
/// The small launcher executable (whyfail-launch beside whyfail, /usr/lib/whyfail in the package): the command's parent
/// when it is there and trustworthy, with -u and --inject working exactly as with whyfail re-executed as `whyfail __launch`
/// (WHYFAIL_SMALL_LAUNCHER=0, and the fallback when it is missing or writable by others). The command prints its parent's
/// name (/proc/PPID/comm): that is the launcher that ran it.
/// </summary>
[Collection("tracing")]
[Trait("suite", "integration")]
public class SmallLauncherTests
{
    private const string ParentScript = "cat /proc/$PPID/comm; grep -E '^(Uid|NoNewPrivs|CapEff|Seccomp):' /proc/self/status";

    private static string Parent(WhyfailRun run) => run.Stdout.Split('\n')[0].Trim();

    /// <summary>whyfail's own name as the kernel keeps it (the lab runs it as whyfail-native): the re-executed launcher's.</summary>
    private static string Self
    {
        get
        {
            string name = Path.GetFileName(Environment.GetEnvironmentVariable("WHYFAIL_BIN")!);
            return name.Length > 15 ? name[..15] : name;
        }
    }

    [FactWithSmallLauncher]
    public void The_command_runs_under_the_small_launcher_and_as_before_without_it()
    {
        var small = WhyfailRunner.Run(["--", "sh", "-c", ParentScript + "; cat /nonexistent-whyfail-small"], TimeSpan.FromMinutes(3));
        var self = WhyfailRunner.Run(["--", "sh", "-c", ParentScript + "; cat /nonexistent-whyfail-small"], TimeSpan.FromMinutes(3),
            env: new Dictionary<string, string> { ["WHYFAIL_SMALL_LAUNCHER"] = "0" });
        Assert.Equal("whyfail-launch", Parent(small));
        Assert.Equal(Self, Parent(self));
        foreach (var run in new[] { small, self })
        {
            Assert.True(run.ExitCode == 1, run.ToString()); // cat's status, passed on by either launcher
            Assert.Contains(run.Failures("openat", "ENOENT"), e => e.GetProperty("args")[1].GetString() == "\"/nonexistent-whyfail-small\"");
            Assert.DoesNotContain(run.Syscalls, e => e.GetProperty("comm").GetString() is { } c && (c == Self || c == "whyfail-launch"));
        }
        Assert.Equal(self.Stdout.Split('\n')[1..], small.Stdout.Split('\n')[1..]);
    }

    /// <summary>
    /// The launcher installed beside whyfail is the C program (launcher/whyfail-launch.c) and it is what runs the command: the
    /// command's parent is that file, with one thread (a .NET launcher, whyfail-launch as it was or `whyfail __launch`, runs
    /// three: the runtime's own threads beside the main one).
    /// </summary>
    [FactWithSmallLauncher]
    public void The_command_runs_under_the_C_launcher_installed_beside_whyfail()
    {
        var run = WhyfailRunner.Run(["--", "sh", "-c", "readlink /proc/$PPID/exe; grep -E '^Threads:' /proc/$PPID/status"], TimeSpan.FromMinutes(3));
        Assert.True(run.ExitCode == 0, run.ToString());
        var lines = run.Stdout.Split('\n');
        string beside = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(Environment.GetEnvironmentVariable("WHYFAIL_BIN")!))!, "whyfail-launch");
        Assert.Equal(beside, lines[0].Trim());
        Assert.Matches(@"^Threads:\s+1$", lines[1].Trim());
    }

    /// <summary>
    /// The command starts with SIGPIPE at its default action under either launcher, as from a shell (whyfail's runtime
    /// ignores it, and an inherited ignore turns `yes | head`'s quiet end into "Broken pipe"), with and without --inject
    /// (posix_spawn, or fork and the filter).
    /// </summary>
    [FactWithSmallLauncher]
    public void The_command_does_not_inherit_whyfails_ignored_SIGPIPE()
    {
        foreach (var small in new[] { "1", "0" })
            foreach (var inject in new[] { Array.Empty<string>(), ["--inject=mkdir:error=EROFS"] })
            {
                var run = WhyfailRunner.Run([.. inject, "--", "sh", "-c", "grep '^SigIgn:' /proc/self/status"], TimeSpan.FromMinutes(3),
                    env: new Dictionary<string, string> { ["WHYFAIL_SMALL_LAUNCHER"] = small });
                Assert.True(run.ExitCode == 0, run.ToString());
                var mask = Convert.ToUInt64(run.Stdout.Trim()["SigIgn:".Length..].Trim(), 16);
                Assert.True((mask & (1UL << (13 - 1))) == 0, $"SIGPIPE ignored in the command (launcher {small}, {string.Join(' ', inject)}): {run.Stdout}");
            }
    }

    /// <summary>-u and --inject through the small launcher: the user's ids, no capabilities, whyfail's filter, injected failures.</summary>
    [FactWithSmallLauncher]
    public void User_and_inject_work_through_the_small_launcher_as_through_whyfail()
    {
        string[] args = ["-u", "nobody", "--inject=mkdir:error=EROFS", "--", "sh", "-c", $"mkdir /tmp/whyfail-small-{Guid.NewGuid():N} 2>/dev/null || echo mkdir failed; {ParentScript}"];
        var small = WhyfailRunner.Run(args, TimeSpan.FromMinutes(3));
        var self = WhyfailRunner.Run(args, TimeSpan.FromMinutes(3), env: new Dictionary<string, string> { ["WHYFAIL_SMALL_LAUNCHER"] = "0" });
        foreach (var run in new[] { small, self })
        {
            Assert.True(run.ExitCode == 0, run.ToString());
            Assert.Contains("mkdir failed", run.Stdout);
            Assert.Matches(@"Uid:\s+65534\s", run.Stdout);
            Assert.Matches(@"NoNewPrivs:\s+0\n", run.Stdout);
            Assert.Matches(@"CapEff:\s+0000000000000000\n", run.Stdout);
            Assert.Matches(@"Seccomp:\s+2\n", run.Stdout);
            Assert.Contains(run.Failures("mkdir", "EROFS"), e => e.TryGetProperty("injected", out var i) && i.GetBoolean());
        }
        Assert.Equal("whyfail-launch", small.Stdout.Split('\n')[1].Trim());
        Assert.Equal(Self, self.Stdout.Split('\n')[1].Trim());
    }

    /// <summary>A launcher that others may write, or replace, is never run by root's whyfail: it re-executes itself instead.</summary>
    [FactWithSmallLauncher]
    public void A_launcher_writable_by_others_is_not_used()
    {
        var dir = Directory.CreateTempSubdirectory("whyfail-small-").FullName;
        try
        {
            string bin = Environment.GetEnvironmentVariable("WHYFAIL_BIN")!;
            File.Copy(bin, Path.Combine(dir, "whyfail"));
            File.Copy(Path.Combine(Path.GetDirectoryName(bin)!, "whyfail-launch"), Path.Combine(dir, "whyfail-launch"));
            File.SetUnixFileMode(Path.Combine(dir, "whyfail"), (UnixFileMode)0x1ed); // 0755
            string Comm(int mode)
            {
                File.SetUnixFileMode(Path.Combine(dir, "whyfail-launch"), (UnixFileMode)mode);
                var psi = new ProcessStartInfo(Path.Combine(dir, "whyfail")) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
                foreach (var a in new[] { "--deep", "none", "-o", "/dev/null", "--", "sh", "-c", "cat /proc/$PPID/comm" }) psi.ArgumentList.Add(a);
                using var p = Process.Start(psi)!;
                var err = p.StandardError.ReadToEndAsync();
                string output = p.StandardOutput.ReadToEnd();
                Assert.True(p.WaitForExit(TimeSpan.FromMinutes(3)), "whyfail did not finish");
                Assert.True(p.ExitCode == 0, err.Result);
                return output.Trim();
            }
            Assert.Equal("whyfail-launch", Comm(0x1ed)); // 0755: used
            Assert.Equal("whyfail", Comm(0x1fd));        // 0775: group-writable, not used
            Assert.Equal("whyfail", Comm(0x1a4));        // 0644: not executable
            // a directory others may write: the launcher could be swapped between the check and the exec
            File.SetUnixFileMode(dir, (UnixFileMode)0x1ff); // 0777
            Assert.Equal("whyfail", Comm(0x1ed));
            File.SetUnixFileMode(dir, (UnixFileMode)0x3ff); // 1777, as /tmp: others cannot rename root's file
            Assert.Equal("whyfail-launch", Comm(0x1ed));
        }
        finally { Directory.Delete(dir, true); }
    }

    /// <summary>The package ships it where /usr/bin/whyfail looks for it.</summary>
    [FactRequiring("dpkg-deb")]
    public void The_package_ships_the_launcher_beside_whyfail()
    {
        string deb = Package.Deb ?? throw new InvalidOperationException("no out/whyfail_*_amd64.deb: build.sh makes it");
        var (code, output) = Package.Sh($"dpkg-deb -c '{deb}'");
        Assert.True(code == 0, output);
        Assert.Matches(@"-rwxr-xr-x root/root .* \./usr/lib/whyfail/whyfail-launch\n", output);
        Assert.Matches(@"-rwxr-xr-x root/root .* \./usr/bin/whyfail\n", output);
    }

    /// <summary>Needs the native build with its launcher beside it (WHYFAIL_BIN=out/whyfail, out/whyfail-launch): skipped otherwise.</summary>
    public sealed class FactWithSmallLauncherAttribute : FactAttribute
    {
        public FactWithSmallLauncherAttribute()
        {
            var bin = Environment.GetEnvironmentVariable("WHYFAIL_BIN");
            if (bin is not { Length: > 0 } || !File.Exists(bin))
                Skip = "WHYFAIL_BIN is not set to the native build (out/whyfail)";
            else if (!File.Exists(Path.Combine(Path.GetDirectoryName(bin)!, "whyfail-launch")))
                Skip = $"no whyfail-launch beside {bin} (./build.sh makes it)";
            else if (OpenDirectory(Path.GetDirectoryName(Path.GetFullPath(bin))!) is { } open)
                Skip = $"{open} can be changed by others than root (mode or owner), so whyfail rightly does not run the launcher beside {bin}";
        }

        /// <summary>The first directory from <paramref name="dir"/> up to / that a user other than root could change
        /// (not root's, or writable by group or others without the sticky bit); null when there is none.</summary>
        private static string? OpenDirectory(string dir)
        {
            for (string? d = dir; d != null; d = Path.GetDirectoryName(d))
            {
                var psi = new ProcessStartInfo("stat", ["-c", "%u %a", d]) { RedirectStandardOutput = true, UseShellExecute = false };
                using var p = Process.Start(psi)!;
                string[] f = p.StandardOutput.ReadToEnd().Split(' ', StringSplitOptions.TrimEntries);
                p.WaitForExit();
                int mode = Convert.ToInt32(f[1], 8);
                if (f[0] != "0" || ((mode & 0x12) != 0 && (mode & 0x200) == 0)) return d;
            }
            return null;
        }
    }
}
