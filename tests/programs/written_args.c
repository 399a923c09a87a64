/* Arguments whyfail copies for the memory/exec decoders (issue 19), each call failing on purpose:
 *   writev:        on descriptor -1 (EBADF), two iovecs: their data is shown, as strace shows a write's buffers.
 *   pwritev:       /dev/null, two iovecs asked for, the array's second element in an unmapped page (EFAULT).
 *   execve:        a missing program, argv with an unreadable string pointer ((char *)-1), an envp of two
 *                  variables: envp's strings are never copied, only counted (ENOENT or EFAULT, by kernel).
 *   execve:        argv at the end of a page with no NULL before the unmapped page (EFAULT or ENOENT).
 *   name_to_handle_at: handle_bytes 0 on /dev: EOVERFLOW, the kernel writes back the size it needs.
 *   set_mempolicy: a 130-node mask (three longs) of which one long is readable before the unmapped page (EFAULT).
 *   clone3:        set_tid {1, 2} with an invalid exit signal (EINVAL before anything is created).
 * Prints each call's errno name, one per line, and exits 0. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/mempolicy.h>
#include <linux/sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

static void report(const char *what, long r)
{
	printf("%s %ld %s\n", what, r, r == -1 ? strerrorname_np(errno) : "-");
}

int main(void)
{
	long page = sysconf(_SC_PAGESIZE);
	char *p = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED || munmap(p + page, page))
		return 2;
	char *end = p + page;

	char a[] = "abc", b[] = "de";
	struct iovec two[2] = { { a, 3 }, { b, 2 } };
	report("writev", writev(-1, two, 2));

	int null = open("/dev/null", O_WRONLY);
	struct iovec *last = (void *)(end - sizeof(struct iovec));
	last->iov_base = "xyz";
	last->iov_len = 3;
	report("pwritev", syscall(SYS_pwritev, null, last, 2, 0, 0));

	char *argv[] = { "whyfail-argv0", (char *)-1, NULL };
	char *envp[] = { "WHYFAIL_TEST_SECRET=hunter2", "B=y", NULL };
	report("execve", syscall(SYS_execve, "/nonexistent/whyfail-written-args", argv, envp));
	char **edge = (void *)(end - sizeof(char *));
	*edge = "edge";
	report("execve", syscall(SYS_execve, "/nonexistent/whyfail-written-args", edge, NULL));

	struct { unsigned int handle_bytes; int handle_type; unsigned char f_handle[64]; } fh = { 0 };
	int mnt = 0;
	report("name_to_handle_at", syscall(SYS_name_to_handle_at, AT_FDCWD, "/dev", &fh, &mnt, 0));

	unsigned long *mask = (void *)(end - sizeof(unsigned long));
	*mask = 1;
	report("set_mempolicy", syscall(SYS_set_mempolicy, MPOL_BIND, mask, 130));

	int32_t tids[2] = { 1, 2 };
	struct clone_args ca;
	memset(&ca, 0, sizeof ca);
	ca.exit_signal = 0xffff;
	ca.set_tid = (uintptr_t)tids;
	ca.set_tid_size = 2;
	report("clone3", syscall(SYS_clone3, &ca, sizeof ca));
	return 0;
}
