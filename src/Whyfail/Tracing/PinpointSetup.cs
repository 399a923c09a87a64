using Whyfail.Analysis.Origin.Source;
using Whyfail.Capture;
using Whyfail.Capture.Origin;

namespace Whyfail.Tracing;

/// <summary>
/// --pinpoint for a session: the <see cref="Pinpointer"/> when everything it needs is there, else one notice
/// saying plainly what is missing (the session goes on without it; the exit code does not change).
/// </summary>
public static class PinpointSetup
{
    public static Pinpointer? Make(TracepointCapture capture, SourceLines? sourceLines, Action<string> notice)
    {
        if (!File.Exists(OriginBackends.KprobePmu))
        {
            notice($"--pinpoint is unavailable: this kernel has no kprobes ({Path.GetDirectoryName(OriginBackends.KprobePmu)} is missing), " +
                "so error sites cannot be probed; everything else is reported as without --pinpoint");
            return null;
        }
        if (capture.OriginProbes is null)
        {
            notice("--pinpoint is unavailable: no kernel origins are traced in this session (see the notices above), so there are no error sites to probe");
            return null;
        }
        if (sourceLines is null)
        {
            notice("--pinpoint needs debug info (a vmlinux with DWARF, see the notice above or --vmlinux) to find the error sites; going on without it");
            return null;
        }
        if (capture.SiteProbes is not { } probes)
        {
            notice("--pinpoint is unavailable: the error-site kprobe program was not loaded");
            return null;
        }
        notice("pinpoint: the first failure of each origin with several candidate error sites arms kprobes on them; its later failures are pinpointed");
        return new Pinpointer(sourceLines, probes, notice);
    }
}
