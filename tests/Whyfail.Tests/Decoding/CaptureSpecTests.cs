using Whyfail.Decoding;
using Whyfail.Events;
using Xunit;
using static Whyfail.Tests.Decoding.Kit;

namespace Whyfail.Tests.Decoding;

public class CaptureSpecTests
{
    private static CaptureSpec Spec(string name) =>
        Decoder.CaptureSpecFor(Nr(name)) ?? throw new Xunit.Sdk.XunitException($"no capture spec for {name}");

    private static void Expect(CaptureSpec s, int arg, CaptureKind kind, int size, int lenArg = 0)
    {
        Assert.Equal(kind, s.Kind[arg]);
        Assert.Equal(size, s.Size[arg]);
        if (kind is CaptureKind.Sized or CaptureKind.SizedByPointer) Assert.Equal(lenArg, s.LenArg[arg]);
    }

    private static void OnlyThese(CaptureSpec s, params int[] args)
    {
        for (int i = 0; i < 6; i++)
            if (!args.Contains(i)) Assert.Equal(CaptureKind.None, s.Kind[i]);
    }

    [Fact]
    public void PathsAreCapturedWhole()
    {
        var s = Spec("openat");
        Expect(s, 1, CaptureKind.String, 4096);
        OnlyThese(s, 1);
        Expect(Spec("renameat2"), 1, CaptureKind.String, 4096);
        Expect(Spec("renameat2"), 3, CaptureKind.String, 4096);
        Expect(Spec("umount2"), 0, CaptureKind.String, 4096);
        Expect(Spec("acct"), 0, CaptureKind.String, 4096);
        Expect(Spec("name_to_handle_at"), 1, CaptureKind.String, 4096);
        Expect(Spec("utime"), 0, CaptureKind.String, 4096);
    }

    [Fact]
    public void EveryPathArgumentIsCaptured()
    {
        foreach (var info in SyscallTable.All)
            for (int i = 0; i < info.Args.Count; i++)
                if (info.Args[i].CType.Contains("char *") && info.Args[i].Name is "filename" or "pathname" or "oldname" or "newname")
                    Expect(Spec(info.Name), i, CaptureKind.String, CaptureSpec.PathSize);
    }

    [Fact]
    public void OtherStringsAreShorter()
    {
        var s = Spec("setxattr");
        Expect(s, 0, CaptureKind.String, 4096);
        Expect(s, 1, CaptureKind.String, 256);
        Expect(s, 2, CaptureKind.Sized, 256, lenArg: 3);
        var m = Spec("mount");
        Expect(m, 0, CaptureKind.String, 4096);
        Expect(m, 1, CaptureKind.String, 4096);
        Expect(m, 2, CaptureKind.String, 256);
        Expect(m, 4, CaptureKind.String, 256);
    }

    [Fact]
    public void Exec()
    {
        var s = Spec("execve");
        Expect(s, 0, CaptureKind.String, 4096);
        Assert.Equal(CaptureKind.StringVector, s.Kind[1]);
        Expect(s, 2, CaptureKind.Fixed, 4096);   // envp's pointers only, to count the variables: never its strings
        OnlyThese(s, 0, 1, 2);
        Assert.Equal(CaptureKind.StringVector, Spec("execveat").Kind[2]);
    }

    [Fact]
    public void Buffers()
    {
        Expect(Spec("write"), 1, CaptureKind.Sized, 256, lenArg: 2);
        Expect(Spec("pwrite64"), 1, CaptureKind.Sized, 256, lenArg: 2);
        Assert.False(Spec("read").Any);   // what a failed read left behind means nothing
        Assert.False(Spec("close").Any);
    }

    [Fact]
    public void DescriptorArguments()
    {
        Assert.Equal(1, Spec("read").FdArgs);
        Assert.Equal(1, Spec("openat").FdArgs);                 // dfd
        Assert.Equal(0b101, Spec("renameat").FdArgs);           // olddfd, newdfd
        Assert.Equal(0b11, Spec("sendfile").FdArgs);            // out_fd, in_fd
        Assert.Equal(0b1, Spec("close_range").FdArgs);          // fd, not max_fd
        Assert.Null(Decoder.CaptureSpecFor(Nr("getppid")));
    }

    [Fact]
    public void SocketAddresses()
    {
        Expect(Spec("connect"), 1, CaptureKind.Sized, 128, lenArg: 2);
        Expect(Spec("bind"), 1, CaptureKind.Sized, 128, lenArg: 2);
        var a = Spec("accept4");
        Expect(a, 1, CaptureKind.SizedByPointer, 128, lenArg: 2);
        Expect(a, 2, CaptureKind.Fixed, 4);
        var st = Spec("sendto");
        Expect(st, 1, CaptureKind.Sized, 256, lenArg: 2);
        Expect(st, 4, CaptureKind.Sized, 128, lenArg: 5);
        Expect(Spec("recvfrom"), 4, CaptureKind.SizedByPointer, 128, lenArg: 5);
        Expect(Spec("setsockopt"), 3, CaptureKind.Sized, 256, lenArg: 4);
        Expect(Spec("getsockopt"), 4, CaptureKind.Fixed, 4);
        Expect(Spec("getsockopt"), 3, CaptureKind.Fixed, 4);
    }

    [Fact]
    public void Structs()
    {
        Expect(Spec("perf_event_open"), 0, CaptureKind.Fixed, 136);          // PERF_ATTR_SIZE_VER8
        Expect(Spec("io_uring_setup"), 1, CaptureKind.Fixed, 120);           // sizeof(struct io_uring_params)
        Expect(Spec("clone3"), 0, CaptureKind.Sized, 4096, lenArg: 1);       // a page: the most the kernel reads
        Expect(Spec("openat2"), 2, CaptureKind.Sized, 48, lenArg: 3);        // open_how, with room to grow
        Expect(Spec("fcntl"), 2, CaptureKind.Fixed, 32);                     // struct flock
        Expect(Spec("epoll_ctl"), 3, CaptureKind.Fixed, 12);                 // packed struct epoll_event
        Expect(Spec("rt_sigaction"), 1, CaptureKind.Fixed, 32);
        Assert.Equal(CaptureKind.None, Spec("rt_sigaction").Kind[2]);        // oldact is a result
        Expect(Spec("rt_sigprocmask"), 1, CaptureKind.Fixed, 8);
        Expect(Spec("setrlimit"), 1, CaptureKind.Fixed, 16);
        Expect(Spec("prlimit64"), 2, CaptureKind.Fixed, 16);
        Expect(Spec("timerfd_settime"), 2, CaptureKind.Fixed, 32);
        Expect(Spec("capset"), 1, CaptureKind.Fixed, 24);
        Expect(Spec("utimensat"), 2, CaptureKind.Fixed, 32);
        Expect(Spec("bpf"), 1, CaptureKind.Sized, 4096, lenArg: 2); // the whole attribute: strace shows extra_data past the structure
        Expect(Spec("seccomp"), 2, CaptureKind.Fixed, 16);
    }

    [Fact]
    public void EverySpecFitsTheBpfSide()
    {
        var all = Decoder.CaptureSpecs().ToList();
        Assert.True(all.Count > 100);
        Assert.Equal(all.Count, all.Select(s => s.Nr).Distinct().Count());
        foreach (var (nr, s) in all)
        {
            Assert.InRange(nr, 0, SyscallTable.MaxNr - 1);
            Assert.True(s.Needed); // memory to copy, or descriptors whose files go into the context
            for (int i = 0; i < 6; i++)
            {
                Assert.InRange(s.Size[i], 0, 4096);                          // WF_MAX_BLOB
                if (s.Kind[i] is CaptureKind.String or CaptureKind.Fixed or CaptureKind.Sized or CaptureKind.SizedByPointer)
                    Assert.True(s.Size[i] > 0, $"{SyscallTable.Name(nr)} arg{i}: empty capture");
                if (s.Kind[i] is CaptureKind.Sized or CaptureKind.SizedByPointer)
                {
                    Assert.InRange(s.LenArg[i], 0, 5);
                    Assert.NotEqual(i, (int)s.LenArg[i]);
                }
            }
        }
    }

    [Fact]
    public void SpecsAreCopies()
    {
        var first = Decoder.CaptureSpecs().First(s => s.Nr == Nr("openat")).Spec;
        first.Size[1] = 1;
        Assert.Equal(4096, Decoder.CaptureSpecs().First(s => s.Nr == Nr("openat")).Spec.Size[1]);
        Assert.Equal(4096, Spec("openat").Size[1]);
    }
}
