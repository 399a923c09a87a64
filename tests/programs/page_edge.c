/* Structures that end exactly at the end of a page whose next page is unmapped, as strace's tests
 * place them: the kernel reads what the size says, a tracer must too (and not give up on the whole).
 *   perf_event_open: a PERF_ATTR_SIZE_VER0 (64-byte) attribute; invalid flags make the call fail
 *                    with EINVAL before the kernel looks at it.
 *   openat2:         a 24-byte open_how passed with usize 32: the last 8 bytes are in the unmapped
 *                    page, so the kernel fails with EFAULT.
 *   io_uring_register: IORING_REGISTER_FILES2 on a directory's descriptor (not an io_uring: EOPNOTSUPP),
 *                    a 32-byte io_uring_rsrc_register at the page's end passed with size 40.
 *   sendmsg:         on descriptor -1 (EBADF), a struct msghdr filling the page's last 56 bytes.
 *   sendmsg:         SCM_RIGHTS with descriptors 0 and -1 over a Unix stream socket: the socket refuses
 *                    the control message (EBADF for -1); the cmsg buffer is second-level memory.
 *   perf_event_open: attr->size 200 with a non-zero byte past the kernel's attribute: E2BIG, and the kernel
 *                    writes the size it supports into attr->size (in/out: shown as 200 => N).
 *   capset:          header version 0x12345678: EINVAL, and the kernel writes its preferred version back.
 *   delete_module, semop, move_pages: a string and two arrays running into the unmapped page.
 *   chdir:           paths at PATH_MAX: 4095 bytes and their NUL (whole), then 5000 bytes (cut); ENAMETOOLONG.
 * Exit 0 when all failed as expected. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/io_uring.h>
#include <linux/mempolicy.h>
#include <linux/openat2.h>
#include <linux/perf_event.h>
#include <linux/sem.h>
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

	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		return 2;
	int fds[2] = { 0, -1 };
	char *ctl = p + page / 2 - CMSG_SPACE(sizeof(fds));
	memset(ctl, 0, CMSG_SPACE(sizeof(fds)));
	char byte = 'x';
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = CMSG_SPACE(sizeof(fds)) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_len = CMSG_LEN(sizeof(fds));
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	memcpy(CMSG_DATA(c), fds, sizeof(fds));
	long r5 = syscall(SYS_sendmsg, sv[0], &m, MSG_NOSIGNAL);
	int e5 = errno;

	static char big[200];
	struct perf_event_attr *battr = (void *)big;
	battr->type = PERF_TYPE_SOFTWARE;
	battr->size = sizeof(big);
	big[sizeof(big) - 1] = 1;
	long r6 = syscall(SYS_perf_event_open, battr, 0, -1, -1, 0UL);
	int e6 = errno;

	struct __user_cap_header_struct hdr = { .version = 0x12345678, .pid = 0 };
	struct __user_cap_data_struct data[2] = { { 0 } };
	long r7 = syscall(SYS_capset, &hdr, data);
	int e7 = errno;

	/* A string and arrays running into the unmapped page: an 80-byte module name with no NUL before the page's end
	 * (delete_module: EFAULT, EPERM or ENOSYS), two sembufs asked for and one readable (semop: EFAULT or EINVAL),
	 * two page addresses asked for and one readable (move_pages: EFAULT). */
	char *name = end - 80;
	memset(name, 'm', 80);
	long r8 = syscall(SYS_delete_module, name, 0);
	struct sembuf *ops = (void *)(end - sizeof(struct sembuf));
	ops->sem_num = 7;
	ops->sem_op = -1;
	ops->sem_flg = SEM_UNDO;
	long r9 = syscall(SYS_semop, -1, ops, 2);
	void **pages = (void *)(end - sizeof(void *));
	*pages = p;
	long r10 = syscall(SYS_move_pages, 0, 2, pages, NULL, NULL, MPOL_MF_MOVE_ALL);

	/* Paths at PATH_MAX: 4095 bytes and a NUL fill the capture exactly, yet end there (strace shows them whole); 5000
	 * bytes do not (4095 shown, then "..."). chdir fails with ENAMETOOLONG for both (a name longer than NAME_MAX; a
	 * path longer than PATH_MAX). */
	static char longpath[5001];
	memset(longpath, 'a', 5000);
	longpath[4095] = 0;
	long r11 = syscall(SYS_chdir, longpath);
	int e11 = errno;
	longpath[4095] = 'a';
	long r12 = syscall(SYS_chdir, longpath);
	int e12 = errno;

	return r11 == -1 && e11 == ENAMETOOLONG && r12 == -1 && e12 == ENAMETOOLONG && r8 == -1 && r9 == -1 && r10 == -1 && r1 == -1 && e1 == EINVAL && r2 == -1 && e2 == EFAULT && r3 == -1 && e3 == EOPNOTSUPP && r4 == -1 && e4 == EBADF &&
	       r5 == -1 && e5 == EBADF && r6 == -1 && e6 == E2BIG && battr->size != sizeof(big) && r7 == -1 && e7 == EINVAL &&
	       hdr.version != 0x12345678 ? 0 : 1;
}
