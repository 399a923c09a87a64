using System.Text;
using Whyfail.Events;
using static Whyfail.Analysis.Explain.Words;

namespace Whyfail.Analysis.Explain.Rules;

/// <summary>
/// ENOENT from execve although the program exists: its "#!" interpreter or its ELF program interpreter
/// (PT_INTERP, the dynamic loader) is missing — including a "#!" line broken by DOS line endings.
/// </summary>
public sealed class ExecInterpreterMissing : IExplainRule
{
    public string Id => "exec.missing_interpreter";

    public bool AppliesTo(SyscallEvent ev) => ev.Errno == Errnos.ENOENT && ev.Syscall is "execve" or "execveat";

    public IEnumerable<Explanation> Explain(SyscallEvent ev, ProcessView proc)
    {
        foreach (var pa in SyscallArgs.Paths(ev))
        {
            var w = PathRules.Walk(ev, proc, pa);
            if (!w.Ok || w.Target is not { Kind: FileKind.Regular } prog) continue;
            var interp = Interpreter(prog.HostPath, out bool script, out bool crlf, out int elfClass);
            proc.Checked.Add(interp is null
                ? $"{Q(prog.Path)} exists and has no \"#!\" line or ELF program interpreter"
                : $"the {(script ? "\"#!\" interpreter" : "ELF program interpreter")} {Q(interp)} of {Q(prog.Path)}");
            if (interp is null) continue;
            var iw = proc.PathWalk(interp);
            if (iw.Ok) continue;
            var missing = iw.FailedAt is { } f ? $" ({Q(f.Path)} {(iw.Outcome == WalkOutcome.Missing ? "does not exist" : "cannot be used: " + iw.Outcome)})" : "";
            if (script)
            {
                if (crlf)
                    yield return new Explanation(Id,
                        $"{Q(prog.Path)} starts with \"#!{interp.TrimEnd('\r')}\" followed by a carriage return: the script has DOS/Windows line endings, so the kernel looks for the interpreter {Q(interp)}, which does not exist",
                        $"convert the line endings: sed -i 's/\\r$//' {Sh(prog.Path)} (or dos2unix)");
                else
                    yield return new Explanation(Id,
                        $"{Q(prog.Path)} exists, but its \"#!\" line names the interpreter {Q(interp)}, which does not exist{missing}",
                        $"install {interp} or change the first line of {Sh(prog.Path)}");
            }
            else
            {
                var hint = interp.Contains("musl") ? " (the program was built for musl libc)"
                    : elfClass == 1 ? " (it is a 32-bit program; the 32-bit C library is probably not installed)"
                    : interp.Contains("ld-linux-aarch64") || interp.Contains("ld-linux-armhf") ? " (it was built for another CPU architecture)" : "";
                yield return new Explanation(Id,
                    $"{Q(prog.Path)} exists, but it is a dynamically linked ELF program whose interpreter {Q(interp)} does not exist{missing}{hint}",
                    $"install the C library/loader it was built against, or rebuild it for this system", hint.Length == 0 || !hint.Contains("probably"));
            }
        }
    }

    /// <summary>The "#!" interpreter (first word) or the ELF PT_INTERP path of a file, or null.</summary>
    internal static string? Interpreter(string hostPath, out bool script, out bool crlf, out int elfClass)
    {
        script = crlf = false;
        elfClass = 0;
        try
        {
            using var f = File.OpenRead(hostPath);
            var head = new byte[256];
            int n = f.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
            if (n >= 2 && head[0] == '#' && head[1] == '!')
            {
                script = true;
                int i = 2;
                while (i < n && head[i] is (byte)' ' or (byte)'\t') i++;
                int start = i;
                while (i < n && head[i] is not ((byte)' ' or (byte)'\t' or (byte)'\n' or 0)) i++;
                if (i == start) return null;
                var s = Encoding.UTF8.GetString(head, start, i - start);
                crlf = s.EndsWith('\r');
                return s;
            }
            if (n >= 64 && head[0] == 0x7f && head[1] == 'E' && head[2] == 'L' && head[3] == 'F' && head[5] == 1)
            {
                elfClass = head[4];
                bool is64 = elfClass == 2;
                long phoff = is64 ? BitConverter.ToInt64(head, 0x20) : BitConverter.ToUInt32(head, 0x1C);
                int phentsize = BitConverter.ToUInt16(head, is64 ? 0x36 : 0x2A);
                int phnum = BitConverter.ToUInt16(head, is64 ? 0x38 : 0x2C);
                if (phnum > 256 || phentsize < (is64 ? 56 : 32)) return null;
                var ph = new byte[phentsize];
                for (int k = 0; k < phnum; k++)
                {
                    f.Position = phoff + (long)k * phentsize;
                    if (f.ReadAtLeast(ph, ph.Length, false) < ph.Length) return null;
                    if (BitConverter.ToUInt32(ph, 0) != 3) continue; // PT_INTERP
                    long off = is64 ? BitConverter.ToInt64(ph, 8) : BitConverter.ToUInt32(ph, 4);
                    long size = is64 ? BitConverter.ToInt64(ph, 32) : BitConverter.ToUInt32(ph, 16);
                    if (size <= 0 || size > 4096) return null;
                    var buf = new byte[size];
                    f.Position = off;
                    int got = f.ReadAtLeast(buf, buf.Length, false);
                    return Encoding.UTF8.GetString(buf, 0, got).TrimEnd('\0');
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        return null;
    }
}
