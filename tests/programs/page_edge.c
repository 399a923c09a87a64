/* Structures that end exactly at the end of a page whose next page is unmapped, as strace's tests
 * place them: the kernel reads what the size says, a tracer must too (and not give up on the whole).
 *   perf_event_open: a PERF_ATTR_SIZE_VER0 (64-byte) attribute; invalid flags make the call fail
 *                    with EINVAL before the kernel looks at it.
 *   openat2:         a 24-byte open_how passed with usize 32: the last 8 bytes are in the unmapped
 *                    page, so the kernel fails with EFAULT.
 *   io_uring_register: IORING_REGISTER_FILES2 on a directory's descriptor (not an io_uring: EOPNOTSUPP),
 *                    a 32-byte io_uring_rsrc_register at the page's end passed with size 40.
 *   sendmsg:         on descriptor -1 (EBADF), a struct msghdr filling the page's last 56 bytes.
 * Exit 0 when all failed as expected. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <linux/openat2.h>
#include <linux/perf_event.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
	long page = sysconf(_SC_PAGESIZE);
	char *p = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED || munmap(p + page, page))
		return 2;
	char *end = p + page;

	struct perf_event_attr *attr = (void *)(end - PERF_ATTR_SIZE_VER0);
	memset(attr, 0, PERF_ATTR_SIZE_VER0);
	attr->type = PERF_TYPE_SOFTWARE;
	attr->size = PERF_ATTR_SIZE_VER0;
	attr->config = PERF_COUNT_SW_CPU_CLOCK;
	attr->sample_period = 4242;
	long r1 = syscall(SYS_perf_event_open, attr, 0, -1, -1, 0x80UL);
	int e1 = errno;

	struct open_how *how = (void *)(end - sizeof(struct open_how));
	memset(how, 0, sizeof(*how));
	how->flags = O_RDONLY | O_CLOEXEC;
	how->resolve = RESOLVE_NO_SYMLINKS;
	long r2 = syscall(SYS_openat2, AT_FDCWD, "/", how, sizeof(*how) + 8);
	int e2 = errno;

	struct io_uring_rsrc_register *reg = (void *)(end - sizeof(*reg));
	memset(reg, 0, sizeof(*reg));
	reg->nr = 5;
	reg->flags = IORING_RSRC_REGISTER_SPARSE;
	int dir = open("/", O_RDONLY | O_DIRECTORY);
	long r3 = syscall(SYS_io_uring_register, dir, IORING_REGISTER_FILES2, reg, sizeof(*reg) + 8);
	int e3 = errno;

	struct msghdr *msg = (void *)(end - sizeof(*msg));
	memset(msg, 0, sizeof(*msg));
	msg->msg_flags = MSG_DONTWAIT;
	long r4 = syscall(SYS_sendmsg, -1, msg, 0);
	int e4 = errno;

	return r1 == -1 && e1 == EINVAL && r2 == -1 && e2 == EFAULT && r3 == -1 && e3 == EOPNOTSUPP && r4 == -1 && e4 == EBADF ? 0 : 1;
}
