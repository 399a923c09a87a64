/*
 * One process that fails the same call, open("again"), twice after each change of its context (the kernel's short
 * path for a repeated failure sends the second of each pair as a reference to the first one's context): every field
 * that path compares instead of reading it into a record is changed once, some twice, and one back to an earlier value.
 * Failures 2k and 2k+1 are step k's:
 *
 *   0  base                  (in DIR/w)
 *   1  rlimit                RLIMIT_FSIZE soft 12345 (changed in place: no pointer says so)
 *   2  umask                 027
 *   3  sigpipe               SIGPIPE ignored (a disposition changed in place)
 *   4  sigchld               SIGCHLD handled
 *   5  blocked               SIGUSR1 blocked
 *   6  groups1               supplementary groups { 4242 } (root's one group: the short path loads it)
 *   7  groups3               { 1, 2, 3 }
 *   8  groups1b              { 4343 } (as many as step 6, another one)
 *   9  securebits            SECBIT_KEEP_CAPS
 *  10  capset                CAP_SYS_ADMIN dropped from the effective set
 *  11  fsuid                 fsuid 1234
 *  12  fsuid0                fsuid 0 again: step 10's context again
 *  13  fds                   descriptor 700 opened (the table grows)
 *  14  nnp                   no_new_privs
 *  15  seccomp               an allow-everything seccomp filter (mode 2, one filter, entry tracking)
 *  16  chdir                 in DIR/w/sub
 *  17  renamed               DIR/w renamed to DIR/v (a directory above the cwd)
 *  18  hardlimit             RLIMIT_NOFILE hard 4000 (the last field of the limits)
 *
 * Usage: context_repeats DIR      (DIR exists and is empty; run as root)
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define CHECK(x) do { if ((x) != 0) { perror(#x); exit(2); } } while (0)

static void twice(void)
{
	for (int i = 0; i < 2; i++)
		if (open("again", O_RDONLY) >= 0) {
			fprintf(stderr, "again exists\n");
			exit(2);
		}
}

static void on_chld(int sig)
{
	(void)sig;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	char w[4096], v[4096];
	snprintf(w, sizeof(w), "%s/w", argv[1]);
	snprintf(v, sizeof(v), "%s/v", argv[1]);
	CHECK(mkdir(w, 0755) || chdir(w) || mkdir("sub", 0755));
	/* what the steps change starts at the default (a test host may hand down SIGPIPE ignored or a blocked mask) */
	signal(SIGPIPE, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	sigset_t none;
	sigemptyset(&none);
	CHECK(sigprocmask(SIG_SETMASK, &none, NULL));
	twice();                                               /* 0 base */

	struct rlimit rl;
	CHECK(getrlimit(RLIMIT_FSIZE, &rl));
	rl.rlim_cur = 12345;
	CHECK(setrlimit(RLIMIT_FSIZE, &rl));
	twice();                                               /* 1 rlimit */
	umask(027);
	twice();                                               /* 2 umask */
	signal(SIGPIPE, SIG_IGN);
	twice();                                               /* 3 sigpipe */
	signal(SIGCHLD, on_chld);
	twice();                                               /* 4 sigchld */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	CHECK(sigprocmask(SIG_BLOCK, &set, NULL));
	twice();                                               /* 5 blocked */
	gid_t g1[] = { 4242 }, g3[] = { 1, 2, 3 }, g1b[] = { 4343 };
	CHECK(setgroups(1, g1));
	twice();                                               /* 6 groups1 */
	CHECK(setgroups(3, g3));
	twice();                                               /* 7 groups3 */
	CHECK(setgroups(1, g1b));
	twice();                                               /* 8 groups1b */
	CHECK(prctl(PR_SET_SECUREBITS, 1 << 4 /* SECBIT_KEEP_CAPS */, 0, 0, 0));
	twice();                                               /* 9 securebits */
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[2];
	CHECK(syscall(SYS_capget, &hdr, data));
	data[CAP_SYS_ADMIN / 32].effective &= ~(1u << (CAP_SYS_ADMIN % 32));
	CHECK(syscall(SYS_capset, &hdr, data));
	twice();                                               /* 10 capset */
	setfsuid(1234);
	twice();                                               /* 11 fsuid */
	setfsuid(0);
	twice();                                               /* 12 fsuid0 */
	if (dup2(0, 700) != 700)
		return 2;
	twice();                                               /* 13 fds */
	CHECK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
	twice();                                               /* 14 nnp */
	struct sock_filter allow[] = { BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW) };
	struct sock_fprog prog = { .len = 1, .filter = allow };
	CHECK(prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0));
	twice();                                               /* 15 seccomp */
	CHECK(chdir("sub"));
	twice();                                               /* 16 chdir */
	CHECK(rename(w, v));
	twice();                                               /* 17 renamed */
	CHECK(getrlimit(RLIMIT_NOFILE, &rl));
	rl.rlim_max = 4000;
	if (rl.rlim_cur > 4000)
		rl.rlim_cur = 4000;
	CHECK(setrlimit(RLIMIT_NOFILE, &rl));
	twice();                                               /* 18 hardlimit */
	return 0;
}
