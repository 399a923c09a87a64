/*
 * One process whose context changes between failures, each failure an open() of a missing name that says which step
 * it is (the tests check that every failure carries its own, true context, and that a repeat carries the same one):
 *
 *   rep (3 times)  in DIR/a/b
 *   up             in DIR/a                      (chdir ..)
 *   moved          in DIR/x/b                    (chdir b, then DIR/a renamed to DIR/x: a directory above the cwd)
 *   renamed        in DIR/x/c                    (the cwd itself renamed in its directory)
 *   chmod          the cwd's mode 0700
 *   umask          umask 077
 *   fds            descriptor 600 opened (the table grows to 1024)
 *   rlimit         RLIMIT_NOFILE soft limit 100
 *   nobody         effective uid 65534 (EACCES: the cwd is 0700)
 *   root           effective uid 0 again (a new cred, possibly at the old one's address)
 *   badfd          read(999): a context with a descriptor record (never a base)
 *   after_badfd    the context before it again
 *   thread         the same, from a second thread
 *   deleted        in the cwd after it was removed
 *   mnt (2 times)  in DIR/m/d on a tmpfs mounted at DIR/m (a walk that crosses a mount: the kernel's other signature)
 *   unmounted      in DIR/m/d again, with the tmpfs unmounted (the same names on the file system below)
 *
 * Usage: context_changes DIR      (DIR exists and is empty)
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static void fail(const char *name)
{
	if (open(name, O_RDONLY) >= 0) {
		fprintf(stderr, "%s exists\n", name);
		exit(2);
	}
}

static void *thread_main(void *arg)
{
	fail("thread");
	return arg;
}

#define CHECK(x) do { if ((x) != 0) { perror(#x); exit(2); } } while (0)

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	char a[4096], ab[4096], x[4096], xb[4096], xc[4096];
	snprintf(a, sizeof(a), "%s/a", argv[1]);
	snprintf(ab, sizeof(ab), "%s/a/b", argv[1]);
	snprintf(x, sizeof(x), "%s/x", argv[1]);
	snprintf(xb, sizeof(xb), "%s/x/b", argv[1]);
	snprintf(xc, sizeof(xc), "%s/x/c", argv[1]);
	CHECK(mkdir(a, 0755));
	CHECK(mkdir(ab, 0755));
	CHECK(chdir(ab));
	for (int i = 0; i < 3; i++)
		fail("rep");
	CHECK(chdir(".."));
	fail("up");
	CHECK(chdir("b"));
	CHECK(rename(a, x));
	fail("moved");
	CHECK(rename(xb, xc));
	fail("renamed");
	CHECK(chmod(".", 0700));
	fail("chmod");
	umask(077);
	fail("umask");
	if (dup2(0, 600) != 600)
		return 2;
	fail("fds");
	struct rlimit rl;
	CHECK(getrlimit(RLIMIT_NOFILE, &rl));
	rl.rlim_cur = 100;
	CHECK(setrlimit(RLIMIT_NOFILE, &rl));
	fail("rlimit");
	CHECK(seteuid(65534));
	fail("nobody");
	CHECK(seteuid(0));
	fail("root");
	char c;
	if (read(999, &c, 1) >= 0)
		return 2;
	fail("after_badfd");
	pthread_t t;
	CHECK(pthread_create(&t, 0, thread_main, 0));
	CHECK(pthread_join(t, 0));
	CHECK(rmdir(xc));
	fail("deleted");
	char m[4096], md[4096];
	snprintf(m, sizeof(m), "%s/m", argv[1]);
	snprintf(md, sizeof(md), "%s/m/d", argv[1]);
	CHECK(mkdir(m, 0755));
	CHECK(mount("wf-ctx", m, "tmpfs", 0, "mode=0755"));
	CHECK(mkdir(md, 0755));
	CHECK(chdir(md));
	fail("mnt");
	fail("mnt");
	CHECK(chdir(argv[1]));
	/* detached, not umount(): whyfail's live analysis of "mnt" may be resolving a path through this process's
	 * cwd on the tmpfs at this moment (ProcessView), which holds the mount for that instant and makes a plain
	 * umount fail with EBUSY */
	CHECK(umount2(m, MNT_DETACH));
	CHECK(mkdir(md, 0755));
	CHECK(chdir(md));
	fail("unmounted");
	CHECK(chdir(argv[1]));
	return 0;
}
