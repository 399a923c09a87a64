using System.Text;
using Whyfail.Capture;
using Xunit;

namespace Whyfail.Tests.Capture;

/// <summary>
/// The start-up's byte-level readers (bench/README "Start-up, session 15"): the per-boot id cache's lines, read without
/// a string per line, answer as File.ReadLines' did; and the heap's huge-page preparation touches a range only when
/// /proc/self/maps shows it as private anonymous memory without a gap.
/// </summary>
public class StartupReadsTests
{
    private static int? Find(string text, string name) => BtfIdCache.Find(Encoding.UTF8.GetBytes(text), Encoding.UTF8.GetBytes(name));

    [Fact]
    public void The_id_cache_line_is_found_as_File_ReadLines_found_it()
    {
        const string file = "1:do_sys_openat2 4242\narity:io_uring_complete 7\r\nfexit:allowed 1\n4:task_struct 0\n";
        Assert.Equal(4242, Find(file, "1:do_sys_openat2"));
        Assert.Equal(7, Find(file, "arity:io_uring_complete")); // a CRLF line
        Assert.Equal(0, Find(file, "4:task_struct"));
        Assert.Null(Find(file, "1:do_sys_openat")); // a prefix is not the name
        Assert.Null(Find(file, "1:absent"));
        Assert.Null(Find("", "1:x"));
    }

    [Fact]
    public void A_garbage_line_is_not_believed_and_the_next_good_one_is()
    {
        Assert.Null(Find("1:x -5\n", "1:x")); // negative
        Assert.Null(Find("1:x 5 6\n", "1:x")); // two spaces
        Assert.Null(Find("1:x five\n", "1:x"));
        Assert.Null(Find("1:x\n", "1:x"));
        Assert.Equal(9, Find("1:x nine\n1:x 9", "1:x")); // the last line without a newline
        Assert.Equal(3, Find("junk\r1:x 3\n", "1:x")); // a lone CR ends a line, as for StreamReader
    }
}
