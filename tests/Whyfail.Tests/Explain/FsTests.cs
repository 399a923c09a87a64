#pragma warning disable CA1416 // Linux only
using Xunit;
using static Whyfail.Tests.Explain.Ev;

namespace Whyfail.Tests.Explain;

[Collection("Explain")]
public sealed class FsTests
{
    const int NR_OPENAT = 257, NR_UNLINKAT = 263, NR_RENAME = 82, NR_MKDIR = 83, NR_RMDIR = 84, NR_LINK = 86;
    const int O_RDONLY = 0, O_WRONLY = 1, O_CREAT = 0x40;

    [Fact]
    public void Erofs_names_the_read_only_mount()
    {
        using var d = new TempDir();
        var mnt = d.Tmpfs("ro", "ro,mode=755");
        using var p = Actor.Python($"t(os.open, '{mnt}/out.txt', os.O_WRONLY|os.O_CREAT, 0o644)", uid: null);
        Assert.Equal(30, p.Errno());

        var e = One(Run(p.Event("openat", NR_OPENAT, 30, [AT_FDCWD, 0, O_WRONLY | O_CREAT, 0x1A4], (1, $"{mnt}/out.txt"))), "mount.read_only");
        Assert.Contains($"is on the mount \"{mnt}\" (tmpfs from wf-explain), which is mounted read-only (options ro", e.Text);
        Assert.StartsWith($"mount -o remount,rw {mnt}", e.Fix);
        Assert.True(e.Certain);
    }

    [Fact]
    public void Eperm_unlink_in_a_sticky_directory()
    {
        using var d = new TempDir();
        d.Dir("shared", 0x3FF); // 1777 root
        d.File_("shared/root-owned.txt", "x", 0x1B6);
        using var p = Actor.Python("t(os.unlink, 'shared/root-owned.txt')", cwd: d.Path);
        Assert.Equal(1, p.Errno());

        var e = One(Run(p.Event("unlinkat", NR_UNLINKAT, 1, [AT_FDCWD, 0, 0], (1, "shared/root-owned.txt"))), "path.sticky_directory");
        Assert.Contains($"\"{d.Path}/shared\" has the sticky bit (mode 1777, owner root (uid 0))", e.Text);
        Assert.Contains("\"root-owned.txt\" is owned by root (uid 0) and the process runs as nobody (uid 65534)", e.Text);
    }

    [Fact]
    public void Eperm_on_an_immutable_file()
    {
        using var d = new TempDir();
        var f = d.File_("frozen.conf");
        Sh.Run("chattr", "+i", f);
        try
        {
            using var p = Actor.Python("t(os.unlink, 'frozen.conf')", uid: null, cwd: d.Path);
            Assert.Equal(1, p.Errno());
            var e = One(Run(p.Event("unlinkat", NR_UNLINKAT, 1, [AT_FDCWD, 0, 0], (1, "frozen.conf"))), "file.immutable");
            Assert.Contains($"\"{f}\" has the immutable attribute (chattr +i)", e.Text);
            Assert.StartsWith("chattr -i", e.Fix);
        }
        finally { Sh.Run("chattr", "-i", f); }
    }

    [Fact]
    public void Exdev_names_both_mounts()
    {
        using var d = new TempDir();
        d.File_("report.csv");
        var mnt = d.Tmpfs("other", "mode=755");
        using var p = Actor.Python($"t(os.rename, 'report.csv', '{mnt}/report.csv')", uid: null, cwd: d.Path);
        Assert.Equal(18, p.Errno());

        var e = One(Run(p.Event("rename", NR_RENAME, 18, [0, 0], (0, "report.csv"), (1, $"{mnt}/report.csv"))), "path.cross_device");
        Assert.Contains($"\"{d.Path}/report.csv\" is on the mount \"/\"", e.Text);
        Assert.Contains($"\"{mnt}\" is on the mount \"{mnt}\" (tmpfs from wf-explain)", e.Text);
        Assert.Contains("rename cannot cross mounts", e.Text);
    }

    [Fact]
    public void Eexist_says_what_is_there()
    {
        using var d = new TempDir();
        File.CreateSymbolicLink(d["cache"], "/nonexistent/cache-dir");
        using var p = Actor.Python("t(os.mkdir, 'cache')", cwd: d.Path);
        Assert.Equal(17, p.Errno());

        var e = One(Run(p.Event("mkdir", NR_MKDIR, 17, [0, 0x1ED], (0, "cache"))), "path.exists");
        Assert.Contains($"\"{d.Path}/cache\" already exists: it is a symbolic link to \"/nonexistent/cache-dir\" whose target does not exist", e.Text);
    }

    [Fact]
    public void Eexist_on_O_EXCL_names_the_existing_file()
    {
        using var d = new TempDir();
        d.File_("app.pid", "123", 0x1A4);
        using var p = Actor.Python("t(os.open, 'app.pid', os.O_WRONLY|os.O_CREAT|os.O_EXCL, 0o644)", uid: null, cwd: d.Path);
        Assert.Equal(17, p.Errno());

        var e = One(Run(p.Event("openat", NR_OPENAT, 17, [AT_FDCWD, 0, O_WRONLY | O_CREAT | 0x80, 0x1A4], (1, "app.pid"))), "path.exists");
        Assert.Contains("already exists: it is a regular file (mode 0644, owner root (uid 0)", e.Text);
    }

    [Fact]
    public void Eisdir_on_open_for_writing_and_on_unlink()
    {
        using var d = new TempDir();
        d.Dir("logs");
        using var p = Actor.Python("t(os.open, 'logs', os.O_WRONLY)\nt(os.unlink, 'logs')", uid: null, cwd: d.Path);
        Assert.Equal(21, p.Errno(0));
        Assert.Equal(21, p.Errno(1));

        var e = One(Run(p.Event("openat", NR_OPENAT, 21, [AT_FDCWD, 0, O_WRONLY, 0], (1, "logs"))), "path.is_directory");
        Assert.Contains($"\"{d.Path}/logs\" is a directory; a directory cannot be opened with O_WRONLY", e.Text);
        var u = One(Run(p.Event("unlinkat", NR_UNLINKAT, 21, [AT_FDCWD, 0, 0], (1, "logs"))), "path.is_directory");
        Assert.Contains("unlinkat removes only non-directories", u.Text);
        Assert.StartsWith("use rmdir", u.Fix);
    }

    [Fact]
    public void Enotempty_counts_the_entries()
    {
        using var d = new TempDir();
        d.Dir("build");
        d.File_("build/a.o"); d.File_("build/b.o"); d.File_("build/.stamp");
        using var p = Actor.Python("t(os.rmdir, 'build')", uid: null, cwd: d.Path);
        Assert.Equal(39, p.Errno());

        var e = One(Run(p.Event("rmdir", NR_RMDIR, 39, [0], (0, "build"))), "dir.not_empty");
        Assert.Contains($"\"{d.Path}/build\" is not empty: it contains 3 entries (\".stamp\", \"a.o\", \"b.o\")", e.Text);
    }

    [Fact]
    public void Enotdir_from_rmdir_of_a_file()
    {
        using var d = new TempDir();
        d.File_("notes.txt");
        using var p = Actor.Python("t(os.rmdir, 'notes.txt')", uid: null, cwd: d.Path);
        Assert.Equal(20, p.Errno());

        var e = One(Run(p.Event("rmdir", NR_RMDIR, 20, [0], (0, "notes.txt"))), "path.not_directory");
        Assert.Contains("is a regular file, not a directory, and rmdir removes only directories", e.Text);
    }

    [Fact]
    public void Enoent_in_a_deleted_working_directory()
    {
        using var d = new TempDir();
        var gone = d.Dir("gone", 0x1FF);
        using var p = Actor.Python($"os.chdir('{gone}'); os.rmdir('{gone}')\nt(os.open, 'new.txt', os.O_WRONLY|os.O_CREAT, 0o644)", uid: null);
        Assert.Equal(2, p.Errno());

        var e = One(Run(p.Event("openat", NR_OPENAT, 2, [AT_FDCWD, 0, O_WRONLY | O_CREAT, 0x1A4], (1, "new.txt"))), "path.missing_component");
        Assert.Contains($"the process's working directory \"{gone}\" has been deleted", e.Text);
    }

    [Fact]
    public void Link_to_a_missing_source_names_it()
    {
        using var d = new TempDir();
        using var p = Actor.Python("t(os.link, 'missing.txt', 'copy.txt')", uid: null, cwd: d.Path);
        Assert.Equal(2, p.Errno());

        var ex = Run(p.Event("link", NR_LINK, 2, [0, 0], (0, "missing.txt"), (1, "copy.txt")));
        var e = One(ex, "path.missing_component");
        Assert.Contains($"\"{d.Path}/missing.txt\" does not exist", e.Text);
        Assert.Single(ex, x => x.Rule == "path.missing_component"); // copy.txt is the name being created
    }

    [Fact]
    public void Eperm_chmod_of_someone_elses_file()
    {
        using var d = new TempDir();
        var f = d.File_("root.conf", "x", 0x1B6);
        using var p = Actor.Python($"t(os.chmod, '{f}', 0o600)");
        Assert.Equal(1, p.Errno());

        var e = One(Run(p.Event("fchmodat", 268, 1, [AT_FDCWD, 0, 0x180], (1, f))), "file.not_owner");
        Assert.Contains($"\"{f}\" is owned by root (uid 0); only its owner or a process with CAP_FOWNER may change its mode, and pid {p.Pid} runs as nobody (uid 65534) without CAP_FOWNER", e.Text);
    }

    [Fact]
    public void Eperm_chown_to_another_user()
    {
        using var d = new TempDir();
        var f = d.File_("mine.txt", "x", 0x1A4);
        Sh.Run("chown", "65534:65534", f);
        using var p = Actor.Python($"t(os.chown, '{f}', 0, -1)");
        Assert.Equal(1, p.Errno());

        var e = One(Run(p.Event("fchownat", 260, 1, [AT_FDCWD, 0, 0, 0xFFFFFFFF, 0], (1, f))), "file.not_owner");
        Assert.Contains("(from nobody (uid 65534) to root (uid 0)) needs CAP_CHOWN", e.Text);
    }

    [Fact]
    public void Enoexec_for_a_script_without_a_shebang()
    {
        using var d = new TempDir();
        var f = d.File_("setup", "echo hello\n", 0x1ED);
        using var p = Actor.Python($"t(os.execv, '{f}', ['setup'])");
        Assert.Equal(8, p.Errno());

        var e = One(Run(p.Event("execve", 59, 8, [0, 0, 0], (0, f))), "exec.format");
        Assert.Contains("starts with neither \"#!\" nor an ELF header (it begins with \"echo hello\")", e.Text);
    }

    [Fact]
    public void Enoexec_for_an_elf_program_of_another_architecture()
    {
        using var d = new TempDir();
        var elf = new byte[64];
        new byte[] { 0x7f, (byte)'E', (byte)'L', (byte)'F', 2, 1, 1 }.CopyTo(elf, 0);
        BitConverter.GetBytes((ushort)2).CopyTo(elf, 16);   // ET_EXEC
        BitConverter.GetBytes((ushort)22).CopyTo(elf, 18);  // s390
        var f = d["s390-tool"];
        File.WriteAllBytes(f, elf);
        File.SetUnixFileMode(f, (UnixFileMode)0x1ED);
        using var p = Actor.Python($"t(os.execv, '{f}', ['tool'])");
        Assert.Equal(8, p.Errno());

        var e = One(Run(p.Event("execve", 59, 8, [0, 0, 0], (0, f))), "exec.format");
        Assert.Contains("is an ELF program for s390 (e_machine 22, 64-bit), but this machine runs x86-64", e.Text);
    }

    [Fact]
    public void Eacces_from_a_script_interpreter_without_execute_permission()
    {
        using var d = new TempDir();
        d.Dir("private", 0x1C0); // 0700: nobody cannot reach the interpreter
        File.Copy("/bin/sh", d["private/sh"]);
        d.File_("job.sh", $"#!{d["private/sh"]}\necho hi\n", 0x1ED);
        using var p = Actor.Python("t(os.execv, './job.sh', ['job.sh'])", cwd: d.Path);
        Assert.Equal(13, p.Errno());

        var e = One(Run(p.Event("execve", 59, 13, [0, 0, 0], (0, "./job.sh"))), "path.permission_denied");
        Assert.Contains($"needs its \"#!\" interpreter \"{d["private/sh"]}\", but \"{d["private"]}\" has mode 0700", e.Text);
    }
}
