/* io_uring_setup twice from one thread: first a plain ring of 4 entries (succeeds; closed again), then a ring
 * with a kernel polling thread pinned to CPU 4095 (IORING_SETUP_SQPOLL | IORING_SETUP_SQ_AFF), which does not
 * exist: the kernel has already allocated the ring when io_sq_offload_create rejects the CPU with EINVAL, tears it
 * down, and never installs a file descriptor. Exit 0 when the first call worked and the second failed with EINVAL.
 * The thread names itself with markup and a '|' (untrusted text that whyfail's text, JSON and HTML must escape and
 * its function_graph parser must not split on). */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/io_uring.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static long setup(unsigned flags, unsigned cpu)
{
	struct io_uring_params p;
	memset(&p, 0, sizeof(p));
	p.flags = flags;
	p.sq_thread_cpu = cpu;
	return syscall(SYS_io_uring_setup, 4, &p);
}

int main(void)
{
	prctl(PR_SET_NAME, "<b>ring|&'\"", 0, 0, 0);
	long fd = setup(0, 0);
	if (fd < 0)
		return 2;
	close((int)fd);
	long bad = setup(IORING_SETUP_SQPOLL | IORING_SETUP_SQ_AFF, 4095);
	return bad < 0 && errno == EINVAL ? 0 : 1;
}
