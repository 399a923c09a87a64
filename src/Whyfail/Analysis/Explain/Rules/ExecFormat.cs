using System.Runtime.InteropServices;
using System.Text;
using Whyfail.Events;
using static Whyfail.Analysis.Explain.Words;

namespace Whyfail.Analysis.Explain.Rules;

/// <summary>
/// ENOEXEC from execve: the file is an ELF program for another CPU, an object file or core dump, a Windows
/// program, empty, or a script without a "#!" line (which shells run but execve does not).
/// </summary>
public sealed class ExecFormat : IExplainRule
{
    public string Id => "exec.format";

    public bool AppliesTo(SyscallEvent ev) => ev.Errno == Errnos.ENOEXEC && ev.Syscall is "execve" or "execveat";

    public IEnumerable<Explanation> Explain(SyscallEvent ev, ProcessView proc)
    {
        foreach (var pa in SyscallArgs.Paths(ev))
        {
            var w = PathRules.Walk(ev, proc, pa);
            if (PathRules.NoteUnwalkable(proc, w) || !w.Ok || w.Target is not { Kind: FileKind.Regular } t) continue;
            byte[] head;
            try
            {
                using var f = File.OpenRead(t.HostPath);
                head = new byte[64];
                head = head[..f.ReadAtLeast(head, head.Length, throwOnEndOfStream: false)];
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { continue; }
            proc.Checked.Add($"the header of {Q(t.Path)}");
            var p = Q(t.Path);
            if (head.Length == 0)
            {
                yield return new Explanation(Id, $"{p} is empty, so there is nothing to execute");
                continue;
            }
            if (head.Length >= 20 && head[0] == 0x7f && head[1] == 'E' && head[2] == 'L' && head[3] == 'F')
            {
                bool big = head[5] == 2;
                int type = big ? head[16] << 8 | head[17] : BitConverter.ToUInt16(head, 16);
                int machine = big ? head[18] << 8 | head[19] : BitConverter.ToUInt16(head, 18);
                var mine = Machine();
                if (type == 1) yield return new Explanation(Id, $"{p} is an ELF relocatable object file (.o), not a linked program", "link it into an executable first");
                else if (type == 4) yield return new Explanation(Id, $"{p} is an ELF core dump, not a program");
                else if (machine != mine)
                    yield return new Explanation(Id,
                        $"{p} is an ELF program for {Arch(machine)} (e_machine {machine}, {(head[4] == 2 ? "64" : "32")}-bit{(big ? ", big-endian" : "")}), but this machine runs {Arch(mine)}",
                        $"use a build for {Arch(mine)}, or register an emulator with binfmt_misc (qemu-user-static)");
                continue;
            }
            if (head[0] == 'M' && head.Length > 1 && head[1] == 'Z')
            {
                yield return new Explanation(Id, $"{p} is a Windows/DOS program (it starts with \"MZ\"), which Linux cannot execute", "run it with wine, or use a Linux build");
                continue;
            }
            if (head[0] == '#' && head.Length > 1 && head[1] == '!') continue;
            var text = Encoding.UTF8.GetString(head[..Math.Min(16, head.Length)]).Split('\n')[0];
            yield return new Explanation(Id,
                $"{p} starts with neither \"#!\" nor an ELF header (it begins with {Q(text)}): execve cannot run it; shells run such files as shell scripts, but the kernel does not",
                $"add a first line such as #!/bin/sh to {Sh(t.Path)}, or run it with its interpreter");
        }
    }

    private static int Machine() => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => 62, Architecture.X86 => 3, Architecture.Arm64 => 183, Architecture.Arm => 40,
        Architecture.RiscV64 => 243, Architecture.S390x => 22, Architecture.Ppc64le => 21, Architecture.LoongArch64 => 258,
        _ => -1,
    };

    private static string Arch(int m) => m switch
    {
        3 => "x86 (i386)", 62 => "x86-64", 40 => "32-bit ARM", 183 => "AArch64 (arm64)", 243 => "RISC-V", 8 => "MIPS",
        20 => "PowerPC", 21 => "PowerPC 64", 22 => "s390", 2 => "SPARC", 43 => "SPARC v9", 258 => "LoongArch", _ => $"machine {m}",
    };
}
