using System.Text;
using Whyfail.Analysis.Explain;
using Whyfail.Decoding;
using Whyfail.Events;
using Xunit;

namespace Whyfail.Tests.Explain;

/// <summary>
/// The argument positions <see cref="SyscallArgs.Paths"/> knows by hand (with the semantics that are hand code:
/// which operation, whether the last link is followed) against the generated syscall table's argument list: a path
/// is a <c>char *</c> parameter and its directory descriptor an <c>int</c> parameter named like one, for every call.
/// </summary>
public class SyscallArgsTableTests
{
    private static SyscallEvent WithEveryArgumentAString(SyscallInfo info) => new()
    {
        Pid = 1, Tid = 1, Nr = info.Nr, Ret = -2, KernelRet = -2, Syscall = info.Name,
        Args = [1, 2, 3, 4, 5, 6],
        Captured = Enumerable.Range(0, 6).Select(i => new CapturedArg(i, CaptureKind.String, 0, Encoding.UTF8.GetBytes($"/p{i}"), 3)).ToList(),
    };

    [Fact]
    public void PathAndDirectoryDescriptorPositionsAgreeWithTheGeneratedTable()
    {
        int paths = 0;
        var wrong = new List<string>();
        foreach (var info in SyscallTable.All.Where(i => i.ArgsKnown))
        {
            foreach (var p in SyscallArgs.Paths(WithEveryArgumentAString(info)))
            {
                paths++;
                if (p.Arg >= info.Args.Count || !info.Args[p.Arg].CType.Contains("char *", StringComparison.Ordinal))
                    wrong.Add($"{info.Name}: path argument {p.Arg} is {(p.Arg < info.Args.Count ? $"'{info.Args[p.Arg].CType} {info.Args[p.Arg].Name}'" : "missing")}, not a char *");
                if (p.DirfdArg >= 0 && (p.DirfdArg >= info.Args.Count || info.Args[p.DirfdArg].CType != "int" || !info.Args[p.DirfdArg].Name.Contains("fd", StringComparison.Ordinal)))
                    wrong.Add($"{info.Name}: directory descriptor argument {p.DirfdArg} is {(p.DirfdArg < info.Args.Count ? $"'{info.Args[p.DirfdArg].CType} {info.Args[p.DirfdArg].Name}'" : "missing")}");
            }
        }
        Assert.True(wrong.Count == 0, string.Join('\n', wrong));
        Assert.True(paths > 50, $"only {paths} path arguments were found: the check saw too little");
    }

    [Fact]
    public void TheCheckSeesAWrongPosition()
    {
        // openat's path is argument 1 ("const char * filename") and its descriptor argument 0 ("int dfd").
        var openat = SyscallTable.Get("openat")!;
        Assert.Equal("filename", openat.Args[1].Name);
        var p = Assert.Single(SyscallArgs.Paths(WithEveryArgumentAString(openat)));
        Assert.Equal((1, 0), (p.Arg, p.DirfdArg));
        Assert.DoesNotContain("char *", openat.Args[2].CType); // a position off by one would be caught
    }
}
