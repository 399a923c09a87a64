/* clone3 with a bad struct clone_args, one call per mode given as an argument (in that order):
 *   signal-in-flags    flags = SIGCHLD, the clone() habit (EINVAL: CSIGNAL bits in flags)
 *   exit-signal        exit_signal = 65 (EINVAL: not a signal)
 *   thread-no-sighand  CLONE_THREAD|CLONE_VM (EINVAL: CLONE_THREAD needs CLONE_SIGHAND)
 *   sighand-no-vm      CLONE_SIGHAND (EINVAL: CLONE_SIGHAND needs CLONE_VM)
 *   stack-no-size      stack set, stack_size 0 (EINVAL)
 *   set-tid-null       set_tid_size 1, set_tid NULL (EINVAL)
 *   set-tid-deep       set_tid_size 2 with a set_tid array, from the initial pid namespace (EINVAL from alloc_pid: one
 *                      pid per pid namespace level, and the child would be in one)
 *   newuser-fs         CLONE_NEWUSER|CLONE_FS (EINVAL)
 *   small              size 32, below CLONE_ARGS_SIZE_VER0 (EINVAL)
 *   huge               size 8192, above a page (E2BIG)
 * An argument hold=PATH (not a mode) keeps the process alive after the calls until PATH exists (at most 60 s), so
 * that its live state can still be looked at.
 * Prints "MODE ERRNO" per call (0 when it unexpectedly succeeded; the child exits at once). Exits 0 when every call
 * failed, 1 otherwise, 2 on an unknown mode. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static char stack_area[16384];

int main(int argc, char **argv)
{
	int failures = 0, modes = 0;
	const char *hold = NULL;
	for (int i = 1; i < argc; i++) {
		const char *m = argv[i];
		if (strncmp(m, "hold=", 5) == 0) {
			hold = m + 5;
			continue;
		}
		modes++;
		struct clone_args a;
		size_t size = sizeof(a);
		memset(&a, 0, sizeof(a));
		a.exit_signal = SIGCHLD;
		if (strcmp(m, "signal-in-flags") == 0) {
			a.flags = SIGCHLD;
			a.exit_signal = 0;
		} else if (strcmp(m, "exit-signal") == 0) {
			a.exit_signal = 65;
		} else if (strcmp(m, "thread-no-sighand") == 0) {
			a.flags = CLONE_THREAD | CLONE_VM;
			a.exit_signal = 0;
		} else if (strcmp(m, "sighand-no-vm") == 0) {
			a.flags = CLONE_SIGHAND;
		} else if (strcmp(m, "stack-no-size") == 0) {
			a.stack = (uint64_t)(uintptr_t)stack_area;
		} else if (strcmp(m, "set-tid-null") == 0) {
			a.set_tid_size = 1;
		} else if (strcmp(m, "set-tid-deep") == 0) {
			static pid_t tids[2] = { 0, 0 };
			a.set_tid = (uint64_t)(uintptr_t)tids;
			a.set_tid_size = 2;
		} else if (strcmp(m, "newuser-fs") == 0) {
			a.flags = CLONE_NEWUSER | CLONE_FS;
		} else if (strcmp(m, "small") == 0) {
			size = 32;
		} else if (strcmp(m, "huge") == 0) {
			size = 8192;
		} else {
			fprintf(stderr, "clone3_bad: unknown mode %s\n", m);
			return 2;
		}
		long r = syscall(SYS_clone3, &a, size);
		if (r == 0)
			_exit(0);
		int err = r < 0 ? errno : 0;
		if (r > 0)
			waitpid((pid_t)r, NULL, __WALL);
		printf("%s %d\n", m, err);
		fflush(stdout);
		if (r < 0)
			failures++;
	}
	for (int i = 0; hold && i < 6000 && access(hold, F_OK) != 0; i++)
		usleep(10000);
	return failures == modes ? 0 : 1;
}
