/*
 * The kernel-origin corpus (bench/origins): real failures across subsystems, each made twice in its own child
 * process, PAUSE seconds apart (the first occurrence shows what whyfail finds at once, the second what it finds
 * after zooming in: the functions it started watching in between). Run as root; the cases that need an
 * unprivileged caller drop to nobody (65534) in their child.
 *
 *   origin_corpus MAP [CASE...]     MAP: file that gets one "PID CASE" line per case; no CASE: all of them
 *
 * Exit status 0 when every case failed as intended (errno checked here too), 1 otherwise.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/bpf.h>
#include <linux/filter.h>
#include <linux/io_uring.h>
#include <linux/landlock.h>
#include <linux/perf_event.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static unsigned pause_s = 3;
static char dir[64];

static void nobody(void)
{
	if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534)) {
		perror("drop to nobody");
		_exit(3);
	}
}

/* Each case makes its failure once (and returns the errno it got); it is called twice. */
static int fail_write_tmpfs(void)
{
	static int fd = -1;
	static char buf[65536];
	if (fd < 0) {
		char path[96];
		snprintf(path, sizeof(path), "%s/tmpfs", dir);
		mkdir(path, 0700);
		if (mount("none", path, "tmpfs", 0, "size=64k")) { perror("mount tmpfs"); _exit(3); }
		strcat(path, "/fill");
		fd = open(path, O_WRONLY | O_CREAT, 0600);
		if (fd < 0) { perror("open fill"); _exit(3); }
	}
	for (int i = 0; i < 64; i++)
		if (write(fd, buf, sizeof(buf)) < 0) return errno;
	return 0;
}

static int fail_inotify(void)
{
	static int fd = -1;
	if (fd < 0) {
		int s = open("/proc/sys/fs/inotify/max_user_watches", O_WRONLY);
		if (s < 0 || write(s, "0", 1) != 1) { perror("max_user_watches"); _exit(3); }
		close(s);
		fd = inotify_init1(0);
	}
	return inotify_add_watch(fd, "/", IN_MODIFY) < 0 ? errno : 0;
}

static int fail_open_missing(void) { return open("/nonexistent-whyfail-corpus/x", O_RDONLY) < 0 ? errno : 0; }

static int fail_open_denied(void)
{
	char path[96];
	snprintf(path, sizeof(path), "%s/private/x", dir);
	return open(path, O_RDONLY) < 0 ? errno : 0;
}

static int fail_kill(void) { return kill(1, 0) < 0 ? errno : 0; }

static int fail_bind(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(80), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int r = bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 ? errno : 0;
	close(s);
	return r;
}

static int fail_connect(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(1), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int r = connect(s, (struct sockaddr *)&a, sizeof(a)) < 0 ? errno : 0;
	close(s);
	return r;
}

static int fail_mlock(void)
{
	static char page[4096] __attribute__((aligned(4096)));
	struct rlimit z = { 0, 0 };
	setrlimit(RLIMIT_MEMLOCK, &z);
	return mlock(page, sizeof(page)) < 0 ? errno : 0;
}

static int fail_mount(void) { return mount("none", "/tmp", "tmpfs", 0, NULL) < 0 ? errno : 0; }

static int fail_unshare(void) { return unshare(CLONE_NEWNS) < 0 ? errno : 0; }

static int fail_ptrace(void) { return ptrace(PTRACE_ATTACH, 1, 0, 0) < 0 ? errno : 0; }

static int fail_perf(void)
{
	struct perf_event_attr a;
	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.type = PERF_TYPE_SOFTWARE;
	a.config = PERF_COUNT_SW_CPU_CLOCK;
	a.sample_type = 1ULL << 62; /* beyond PERF_SAMPLE_MAX */
	return syscall(SYS_perf_event_open, &a, 0, -1, -1, 0) < 0 ? errno : 0;
}

static int fail_io_uring(void)
{
	struct io_uring_params p;
	memset(&p, 0, sizeof(p));
	return syscall(SYS_io_uring_setup, 0, &p) < 0 ? errno : 0; /* zero entries */
}

static int fail_bpf(void)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_type = 0x7fff; /* no such map type */
	a.key_size = 4;
	a.value_size = 4;
	a.max_entries = 1;
	return syscall(SYS_bpf, BPF_MAP_CREATE, &a, sizeof(a)) < 0 ? errno : 0;
}

static int fail_socket(void) { return socket(200, SOCK_STREAM, 0) < 0 ? errno : 0; }

static int fail_setns(void)
{
	int fd = open("/dev/null", O_RDONLY);
	int r = setns(fd, 0) < 0 ? errno : 0;
	close(fd);
	return r;
}

static int fail_seccomp_mkdir(void)
{
	static int installed;
	if (!installed) {
		struct sock_filter f[] = {
			BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
			BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mkdir, 0, 1),
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		};
		struct sock_fprog prog = { .len = sizeof(f) / sizeof(f[0]), .filter = f };
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog)) { perror("seccomp"); _exit(3); }
		installed = 1;
	}
	return mkdir("/tmp/whyfail-corpus-never", 0755) < 0 ? errno : 0;
}

static void on_usr1(int sig) { (void)sig; }

static int fail_signal_read(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1; /* no SA_RESTART */
	sigaction(SIGUSR1, &sa, NULL);
	int p[2];
	if (pipe(p)) _exit(3);
	pid_t me = getpid(), c = fork();
	if (c == 0) {
		/* Signal once the parent is blocked in read (its /proc/PID/syscall starts with 0). */
		char path[64], buf[128];
		snprintf(path, sizeof(path), "/proc/%d/syscall", (int)me);
		for (int i = 0; i < 4000; i++) {
			FILE *f = fopen(path, "r");
			int blocked = f && fgets(buf, sizeof(buf), f) && strncmp(buf, "0 ", 2) == 0;
			if (f) fclose(f);
			if (blocked) break;
			usleep(5000);
		}
		usleep(50000);
		kill(me, SIGUSR1);
		_exit(0);
	}
	char b;
	int r = read(p[0], &b, 1) < 0 ? errno : 0;
	waitpid(c, NULL, 0);
	close(p[0]);
	close(p[1]);
	return r;
}

static int fail_landlock_open(void)
{
	static int restricted;
	char allowed[96], denied[96];
	snprintf(allowed, sizeof(allowed), "%s/ll-allowed", dir);
	snprintf(denied, sizeof(denied), "%s/ll-denied", dir);
	if (!restricted) {
		struct landlock_ruleset_attr ra = { .handled_access_fs = LANDLOCK_ACCESS_FS_READ_FILE };
		int rs = syscall(SYS_landlock_create_ruleset, &ra, sizeof(ra), 0);
		if (rs < 0) { perror("landlock_create_ruleset"); _exit(3); }
		struct landlock_path_beneath_attr pb = { .allowed_access = LANDLOCK_ACCESS_FS_READ_FILE, .parent_fd = open(allowed, O_PATH) };
		if (syscall(SYS_landlock_add_rule, rs, LANDLOCK_RULE_PATH_BENEATH, &pb, 0)) { perror("landlock_add_rule"); _exit(3); }
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || syscall(SYS_landlock_restrict_self, rs, 0)) { perror("landlock_restrict_self"); _exit(3); }
		restricted = 1;
	}
	return open(denied, O_RDONLY) < 0 ? errno : 0;
}

struct kase {
	const char *name;
	int (*fail)(void);
	int as_nobody;
	int want;
};

static const struct kase cases[] = {
	{ "write_tmpfs_full", fail_write_tmpfs, 0, ENOSPC },
	{ "inotify_watch_limit", fail_inotify, 0, ENOSPC },
	{ "open_missing", fail_open_missing, 0, ENOENT },
	{ "open_denied", fail_open_denied, 1, EACCES },
	{ "kill_init", fail_kill, 1, EPERM },
	{ "bind_port_80", fail_bind, 1, EACCES },
	{ "connect_refused", fail_connect, 0, ECONNREFUSED },
	{ "mlock_no_limit", fail_mlock, 1, EPERM },
	{ "mount_unprivileged", fail_mount, 1, EPERM },
	{ "unshare_unprivileged", fail_unshare, 1, EPERM },
	{ "ptrace_init", fail_ptrace, 1, EPERM },
	{ "perf_bad_sample_type", fail_perf, 0, EINVAL },
	{ "io_uring_zero_entries", fail_io_uring, 0, EINVAL },
	{ "bpf_bad_map_type", fail_bpf, 0, EINVAL },
	{ "socket_bad_family", fail_socket, 0, EAFNOSUPPORT },
	{ "setns_not_a_namespace", fail_setns, 0, EINVAL },
	{ "seccomp_mkdir", fail_seccomp_mkdir, 0, EPERM },
	{ "signal_read", fail_signal_read, 0, EINTR },
	{ "landlock_open", fail_landlock_open, 0, EACCES },
};

static int run(const struct kase *k, FILE *map)
{
	pid_t c = fork();
	if (c == 0) {
		fprintf(map, "%d %s\n", (int)getpid(), k->name);
		fflush(map);
		if (k->as_nobody) nobody();
		int e1 = k->fail();
		sleep(pause_s);
		int e2 = k->fail();
		printf("%s: %s, then %s (want %s)\n", k->name, strerrorname_np(e1) ?: "0", strerrorname_np(e2) ?: "0", strerrorname_np(k->want));
		fflush(stdout);
		_exit(e1 == k->want && e2 == k->want ? 0 : 1);
	}
	int st = 0;
	waitpid(c, &st, 0);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) { fprintf(stderr, "usage: origin_corpus MAP [CASE...]\n"); return 2; }
	if (getenv("PAUSE")) pause_s = (unsigned)atoi(getenv("PAUSE"));
	FILE *map = fopen(argv[1], "w");
	if (!map) { perror(argv[1]); return 2; }
	strcpy(dir, "/run/whyfail-corpus-XXXXXX");
	if (!mkdtemp(dir)) { perror("mkdtemp"); return 2; }
	chmod(dir, 0755);
	char p[96];
	snprintf(p, sizeof(p), "%s/private", dir);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/ll-allowed", dir);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/ll-denied", dir);
	close(open(p, O_WRONLY | O_CREAT, 0644));
	/* The inotify limit is the whole system's: put it back. */
	char old[32] = "";
	int s = open("/proc/sys/fs/inotify/max_user_watches", O_RDONLY);
	if (s >= 0) { ssize_t n = read(s, old, sizeof(old) - 1); old[n > 0 ? n : 0] = 0; close(s); }

	int ok = 1;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int want = argc == 2;
		for (int a = 2; a < argc; a++) want |= strcmp(argv[a], cases[i].name) == 0;
		if (want) ok &= run(&cases[i], map);
	}
	s = open("/proc/sys/fs/inotify/max_user_watches", O_WRONLY);
	if (s >= 0 && old[0]) { if (write(s, old, strlen(old)) < 0) ok = 0; close(s); }
	snprintf(p, sizeof(p), "%s/tmpfs", dir);
	umount2(p, MNT_DETACH);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd)) ok = 0;
	return ok ? 0 : 1;
}
