using Whyfail.Events;
using Xunit;
using static Whyfail.Tests.Decoding.Kit;

namespace Whyfail.Tests.Decoding;

/// <summary>
/// reboot, kcmp, ioprio, quotactl, System V IPC, landlock, futex_waitv, itimers, iovec and page arrays, open/statx flags:
/// on struct bytes laid out by the C compiler with the installed headers, expected as strace 6.1 prints them.
/// </summary>
public class SysadminIpcDecoderTests
{
    private static byte[] C(string includes, string type, string fill) => CStruct.Bytes(includes, type, fill);

    /// <summary>A capture that ran into an unreadable page after <paramref name="b"/>.</summary>
    private static CapturedArg Faulted(int arg, byte[] b) => new(arg, CaptureKind.Fixed, 0, b, b.Length, Faulted: true);

    [Fact]
    public void RebootNamesTheMagicNumbersAndTheCommand()
    {
        Assert.Equal("reboot(LINUX_REBOOT_MAGIC1, 0x13111992 /* LINUX_REBOOT_MAGIC_??? */, LINUX_REBOOT_CMD_RESTART2, \"reboot\")",
            Line(Ev("reboot", [0xfee1dead, 0x13111992, 0xa1b2c3d4, 0x1000], -22, false, Str(3, "reboot"))));
        Assert.Equal("reboot(0 /* LINUX_REBOOT_MAGIC_??? */, 0 /* LINUX_REBOOT_MAGIC_??? */, LINUX_REBOOT_CMD_CAD_OFF)",
            Line(Ev("reboot", [0, 0, 0, 0], -22)));
    }

    [CompilerFact]
    public void KcmpShowsWhatEachTypeCompares()
    {
        Assert.Equal("kcmp(-1, -1, KCMP_VM)", Line(Ev("kcmp", [0xffffffff, 0xffffffff, 1, 5, 6], -3)));
        Assert.Equal("kcmp(1, 2, KCMP_FILE, -557785388, 3)", Line(Ev("kcmp", [1, 2, 0, 0xdec0ded3dec0ded4, 3], -3)));
        Assert.Equal("kcmp(1, 2, 0xda7adead /* KCMP_??? */, 0xdec0ded3dec0ded4, 0x1)",
            Line(Ev("kcmp", [1, 2, 0xda7adead, 0xdec0ded3dec0ded4, 1], -3)));
        var slot = C("#include <linux/kcmp.h>", "struct kcmp_epoll_slot", "s.efd = 23; s.tfd = 42; s.toff = 3134983661u;");
        Assert.Equal("kcmp(1, -1, KCMP_EPOLL_TFD, 23, {efd=23, tfd=42, toff=3134983661})",
            Line(Ev("kcmp", [1, 0xffffffff, 7, 23, 0x1000], -3, false, Fixed(4, slot))));
    }

    [Fact]
    public void IoprioAndQuotaCommandsAreSplitIntoTheirParts()
    {
        Assert.Equal("ioprio_set(IOPRIO_WHO_PGRP, 17595, IOPRIO_PRIO_VALUE(IOPRIO_CLASS_NONE, 8191))",
            Line(Ev("ioprio_set", [2, 17595, 8191], -22)));
        Assert.Equal("ioprio_get(0xfa57beef /* IOPRIO_WHO_??? */, -629534633)", Line(Ev("ioprio_get", [0xfa57beef, 0xda7a1057], -22)));
        // QCMD(Q_QUOTAON, USRQUOTA): the format and the quota file; Q_QUOTAOFF reads nothing more; an unknown command the id (qid_t, -1) and the buffer.
        Assert.Equal("quotactl(QCMD(Q_QUOTAON, USRQUOTA), \"/dev/bogus/\", QFMT_VFS_OLD, \"/tmp/bogus/\")",
            Line(Ev("quotactl", [0x80000200, 0x1000, 1, 0x2000], -2, false, Str(1, "/dev/bogus/"), Str(3, "/tmp/bogus/"))));
        Assert.Equal("quotactl(QCMD(Q_QUOTAOFF, GRPQUOTA), \"/dev/bogus/\")",
            Line(Ev("quotactl", [0x80000301, 0x1000, 0xffffffff, 0], -2, false, Str(1, "/dev/bogus/"))));
        Assert.Equal("quotactl(QCMD(0 /* Q_??? */, USRQUOTA), NULL, -1, NULL)", Line(Ev("quotactl", [0, 0, 0xffffffff, 0], -19)));
        Assert.Equal("quotactl_fd(-1, QCMD(Q_GETFMT, GRPQUOTA), 0x7ffff7fbcffc)",
            Line(Ev("quotactl_fd", [0xffffffff, 0x80000401, 0xfffffffe, 0x7ffff7fbcffc], -9)));
    }

    [CompilerFact]
    public void SembufArraysAreReadUpToTheUnreadablePage()
    {
        var ops = C("#include <linux/sem.h>", "struct { struct sembuf a[1]; }",
            "s.a[0].sem_num = 64206; s.a[0].sem_op = -4083; s.a[0].sem_flg = SEM_UNDO|IPC_NOWAIT|0xa6ef;");
        // Two operations asked for, one readable before the page ends: strace's "... /* address */".
        Assert.Equal("semop(-38177487, [{sem_num=64206, sem_op=-4083, sem_flg=SEM_UNDO|IPC_NOWAIT|0xa6ef}, ... /* 0x1006 */], 2)",
            Line(Ev("semop", [0xfdb97531, 0x1000, 2], -14, false, Faulted(1, ops))));
        Assert.Equal("semop(1, [], 0)", Line(Ev("semop", [1, 0x1000, 0], -22)));
        Assert.Equal("msgget(0xfdb9f531, IPC_EXCL|IPC_NOWAIT|0xface1000|0125)", Line(Ev("msgget", [0xfdb9f531, 0xface1000 | 0x400 | 0x800 | 0x55], -2)));
        Assert.Equal("semget(IPC_PRIVATE, 1, IPC_CREAT|0600)", Line(Ev("semget", [0, 1, 0x200 | 0x180], -28)));
        Assert.Equal("msgctl(-38177487, IPC_SET, 0xffffffffffffffff)", Line(Ev("msgctl", [0xfdb97531, 1, ulong.MaxValue], -22)));
    }

    [CompilerFact]
    public void LandlockStructuresShowTheFieldsTheSizeCovers()
    {
        var attr = C("#include <linux/landlock.h>", "struct landlock_ruleset_attr", "s.handled_access_fs = LANDLOCK_ACCESS_FS_EXECUTE;");
        Assert.Equal("landlock_create_ruleset({handled_access_fs=LANDLOCK_ACCESS_FS_EXECUTE}, 8, 0)",
            Line(Ev("landlock_create_ruleset", [0x1000, 8, 0], -22, false, Fixed(0, attr))));
        Assert.Equal("landlock_create_ruleset({handled_access_fs=LANDLOCK_ACCESS_FS_EXECUTE, ...}, 16, 0)",
            Line(Ev("landlock_create_ruleset", [0x1000, 16, 0], -14, false, Fixed(0, attr))));
        var rule = C("#include <linux/landlock.h>", "struct landlock_path_beneath_attr",
            "s.allowed_access = LANDLOCK_ACCESS_FS_EXECUTE; s.parent_fd = -1;");
        Assert.Equal("landlock_add_rule(-1, LANDLOCK_RULE_PATH_BENEATH, {allowed_access=LANDLOCK_ACCESS_FS_EXECUTE, parent_fd=-1}, 0)",
            Line(Ev("landlock_add_rule", [0xffffffff, 0xd1efaced00000001, 0x1000, 0], -9, false, Fixed(2, rule))));
        Assert.Equal("landlock_add_rule(0, 0 /* LANDLOCK_RULE_??? */, NULL, 0)", Line(Ev("landlock_add_rule", [0, 0xd1efaced00000000, 0, 0], -77)));
    }

    [CompilerFact]
    public void FutexWaitvAndTimers()
    {
        var w = C("#include <linux/futex.h>", "struct futex_waitv",
            "s.val = 0xffffffffffffffffULL; s.uaddr = 0; s.flags = FUTEX_32|FUTEX_PRIVATE_FLAG|0xffffff7d; s.__reserved = 0xffffffff;");
        Assert.Equal("futex_waitv([{val=0xffffffffffffffff, uaddr=NULL, flags=FUTEX_32|FUTEX_PRIVATE_FLAG|0xffffff7d, __reserved=0xffffffff}], 1, 0, NULL, CLOCK_MONOTONIC)",
            Line(Ev("futex_waitv", [0x1000, 1, 0, 0, 1], -22, false, Fixed(0, w))));
        Assert.Equal("futex_waitv([], 0, 0x1, 0x7ffff7dcb000, 0xffffffff /* CLOCK_??? */)",
            Line(Ev("futex_waitv", [0x1000, 0, 1, 0x7ffff7dcb000, 0xffffffff], -22)));
        var itv = C("#include <linux/time_types.h>", "struct __kernel_old_itimerval",
            "s.it_interval.tv_sec = 789985; s.it_interval.tv_usec = 789986; s.it_value.tv_sec = 789987; s.it_value.tv_usec = 789988;");
        Assert.Equal("setitimer(ITIMER_REAL, {it_interval={tv_sec=789985, tv_usec=789986}, it_value={tv_sec=789987, tv_usec=789988}}, 0x2000)",
            Line(Ev("setitimer", [0, 0x1000, 0x2000], -14, false, Fixed(1, itv))));
        // tv_nsec is shown unsigned, as strace prints it.
        var ts = C("#include <linux/time_types.h>", "struct __kernel_timespec", "s.tv_sec = -1; s.tv_nsec = -1;");
        Assert.Equal("nanosleep({tv_sec=-1, tv_nsec=18446744073709551615}, 0x2000)", Line(Ev("nanosleep", [0x1000, 0x2000], -22, false, Fixed(0, ts))));
    }

    [CompilerFact]
    public void IovecAndPageArrays()
    {
        var iov = C("#include <sys/uio.h>", "struct { struct iovec a[1]; }", "s.a[0].iov_base = (void *)0x7ffff7fbcff8; s.a[0].iov_len = 8;");
        Assert.Equal("preadv(0, [{iov_base=0x7ffff7fbcff8, iov_len=8}], 1, -1)",
            Line(Ev("preadv", [0, 0x1000, 1, ulong.MaxValue, 0], -22, false, Fixed(1, iov))));
        Assert.Equal("preadv(0, [], 0, -3)", Line(Ev("preadv", [0, 0x1000, 0, unchecked((ulong)-3L), 0], -22)));
        // A count whose size wraps around: the address.
        Assert.Equal("process_vm_readv(1, 0x7ffff7dbf000, 16051074064918957778, 0x1000, 1, 0)",
            Line(Ev("process_vm_readv", [1, 0x7ffff7dbf000, 16051074064918957778, 0x1000, 1, 0], -22, false, Fixed(1, iov))));
        Assert.Equal("preadv2(-1, NULL, 3, 4, RWF_HIPRI)", Line(Ev("preadv2", [ulong.MaxValue, 0, 3, 4, 5, 1], -9)));
        var pages = Le64(0x7ffff7fbc000);
        var nodes = Le32(unchecked((uint)-559038751));
        Assert.Equal("move_pages(1, 2, [0x7ffff7fbc000, ... /* 0x1008 */], [-559038751, ... /* 0x2004 */], 0x3000, MPOL_MF_MOVE_ALL)",
            Line(Ev("move_pages", [1, 2, 0x1000, 0x2000, 0x3000, 4], -19, false, Faulted(2, pages), Faulted(3, nodes))));
    }

    [Fact]
    public void OpenAndStatxFlagsAsStraceNamesThem()
    {
        Assert.Equal("openat(-1, \"f\", O_ACCMODE|O_APPEND)", Line(Ev("openat", [0xffffffff, 0x1000, 3 | 0x400], -9, false, Str(1, "f"))));
        Assert.Equal("openat(-1, \"f\", O_RDONLY|__O_SYNC)", Line(Ev("openat", [0xffffffff, 0x1000, 0x100000], -9, false, Str(1, "f"))));
        Assert.Equal("openat(-1, \"f\", O_WRONLY|O_SYNC)", Line(Ev("openat", [0xffffffff, 0x1000, 0x101001], -9, false, Str(1, "f"))));
        // __O_TMPFILE alone: the kernel reads the mode, as with O_CREAT.
        Assert.Equal("openat(-1, \"f\", O_RDWR|__O_TMPFILE, 000)", Line(Ev("openat", [0xffffffff, 0x1000, 0x400002, 0], -22, false, Str(1, "f"))));
        Assert.Equal("statx(AT_FDCWD, \"s\", AT_STATX_SYNC_AS_STAT|AT_SYMLINK_FOLLOW|0xffff0000, STATX_ALL, 0x2000)",
            Line(Ev("statx", [AtFdcwd, 0x1000, 0xffff0400, 0xfff, 0x2000], -22, false, Str(1, "s"))));
        Assert.Equal("mknod(\"./mknod\", 0177777)", Line(Ev("mknod", [0x1000, 0xffff, 0], -22, false, Str(0, "./mknod"))));
        Assert.Equal("unlinkat(AT_FDCWD, \"u\", AT_REMOVEDIR)", Line(Ev("unlinkat", [AtFdcwd, 0x1000, 0x200], -2, false, Str(1, "u"))));
        Assert.Equal("memfd_create(\"m\", 30<<MFD_HUGE_SHIFT)", Line(Ev("memfd_create", [0x1000, 0x78000000], -22, false, Str(0, "m"))));
    }

    [Fact]
    public void AStringRunningIntoAnUnreadablePageIsCutAtTheLimit()
    {
        var bytes = System.Text.Encoding.ASCII.GetBytes("0123456789:;<=>?@ABCDEFGHIJKLMNOP"); // 33 bytes, no NUL
        var cap = new CapturedArg(0, CaptureKind.String, 0, bytes, 0, Faulted: true);
        Assert.Equal("delete_module(\"0123456789:;<=>?@ABCDEFGHIJKLMNO\"..., O_NONBLOCK)",
            Line(Ev("delete_module", [0x7ffff7fbcfdf, 0x800], -38, false, cap)));
        // Fewer bytes than -s readable: strace cannot show the string either, only its address.
        var shortCap = new CapturedArg(0, CaptureKind.String, 0, bytes[..10], 0, Faulted: true);
        Assert.Equal("delete_module(0x7ffff7fbcff6, 0)", Line(Ev("delete_module", [0x7ffff7fbcff6, 0], -38, false, shortCap)));
    }

    [CompilerFact]
    public void MountSetattrReadsStructMountAttrBySize()
    {
        var a = C("#include <linux/mount.h>", "struct mount_attr",
            "s.attr_set = MOUNT_ATTR_RDONLY|MOUNT_ATTR_NOSUID; s.attr_clr = 0; s.propagation = MS_UNBINDABLE; s.userns_fd = 9;");
        Assert.Equal("mount_setattr(-1, \"/dev/full\", AT_RECURSIVE, {attr_set=MOUNT_ATTR_RDONLY|MOUNT_ATTR_NOSUID, attr_clr=0, propagation=MS_UNBINDABLE, userns_fd=9}, 32)",
            Line(Ev("mount_setattr", [0xffffffff, 0x1000, 0x8000, 0x2000, 32], -22, false, Str(1, "/dev/full"), Sized(3, a))));
        // Smaller than MOUNT_ATTR_SIZE_VER0: the address, as strace shows it.
        Assert.Equal("mount_setattr(-1, \"/dev/full\", 0, 0x2000, 16)",
            Line(Ev("mount_setattr", [0xffffffff, 0x1000, 0, 0x2000, 16], -22, false, Str(1, "/dev/full"), Sized(3, a[..16]))));
    }

    [Fact]
    public void PrctlOptionsReadTheirArgumentsAsStraceShowsThem()
    {
        Assert.Equal("prctl(PR_SET_UNALIGN, PR_UNALIGN_NOPRINT|PR_UNALIGN_SIGBUS)", Line(Ev("prctl", [6, 3], -22)));
        Assert.Equal("prctl(PR_SET_TSC, 0xfacebeef /* PR_TSC_??? */)", Line(Ev("prctl", [26, 0xfacebeef], -22)));
        Assert.Equal("prctl(PR_SET_PDEATHSIG, 13464652301225295597)", Line(Ev("prctl", [1, 13464652301225295597], -22)));
        Assert.Equal("prctl(PR_MCE_KILL, PR_MCE_KILL_SET, 0xff /* PR_MCE_KILL_??? */, 0, 0)", Line(Ev("prctl", [33, 1, 0xff, 0, 0], -22)));
        Assert.Equal("prctl(PR_MCE_KILL_GET, 0xaaaa, 0xbbbb, 0xcccc, 0xdddd)", Line(Ev("prctl", [34, 0xaaaa, 0xbbbb, 0xcccc, 0xdddd], -22)));
        Assert.Equal("prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, NULL, 1, \"name\")",
            Line(Ev("prctl", [0x53564d41, 0, 0, 1, 0x1000], -22, false, Str(4, "name"))));
        Assert.Equal("prctl(PR_SET_SECUREBITS, SECBIT_NOROOT|SECBIT_KEEP_CAPS_LOCKED|0x100000000)", Line(Ev("prctl", [28, 0x100000021], -1)));
        Assert.Equal("sched_setaffinity(1, 0, [])", Line(Ev("sched_setaffinity", [1, 0, 0x1000], -22)));
    }

    [CompilerFact]
    public void GroupListsAndPollTimeouts()
    {
        var groups = C("#include <sys/types.h>", "struct { gid_t a[2]; }", "s.a[0] = (gid_t)-1; s.a[1] = 4294967294u;");
        Assert.Equal("setgroups(2, [-1, 4294967294])", Line(Ev("setgroups", [2, 0x1000], -22, false, Fixed(1, groups))));
        Assert.Equal("setgroups(3, [-1, 4294967294, ... /* 0x1008 */])", Line(Ev("setgroups", [3, 0x1000], -14, false, Faulted(1, groups))));
        var ts = C("#include <linux/time_types.h>", "struct __kernel_timespec", "s.tv_sec = 3735928559; s.tv_nsec = 4207869677;");
        Assert.Equal("ppoll(NULL, 0, {tv_sec=3735928559, tv_nsec=4207869677}, NULL, 8)", Line(Ev("ppoll", [0, 0, 0x1000, 0, 8], -22, false, Fixed(2, ts))));
        Assert.Equal("futex(0x1000, FUTEX_WAKE_BITSET, 10, 0)", Line(Ev("futex", [0x1000, 10, 10, 0x2000, 0x3000, 0], -22)));
    }
}
