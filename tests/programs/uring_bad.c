/* io_uring_setup with bad parameters, one call per mode given as an argument (in that order), each refused with
 * EINVAL before a ring exists:
 *   zero-entries     entries 0
 *   too-many         entries 65536 without IORING_SETUP_CLAMP
 *   resv             resv[1] = 7
 *   unknown-flag     flags bit 30
 *   aff-no-sqpoll    IORING_SETUP_SQ_AFF without IORING_SETUP_SQPOLL
 *   bad-cpu          IORING_SETUP_SQPOLL|IORING_SETUP_SQ_AFF on CPU 4095
 *   cq-small         IORING_SETUP_CQSIZE with cq_entries 2 for 8 entries
 *   defer-no-single  IORING_SETUP_DEFER_TASKRUN without IORING_SETUP_SINGLE_ISSUER
 *   attach-not-ring  IORING_SETUP_ATTACH_WQ with wq_fd = a pipe
 * An argument hold=PATH (not a mode) keeps the process alive after the calls until PATH exists (at most 60 s), so
 * that its descriptors can still be looked at.
 * Prints "MODE ERRNO" per call (0 when it unexpectedly succeeded). Exits 0 when every call failed with EINVAL,
 * 1 otherwise, 2 on an unknown mode. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/io_uring.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int einval = 0, modes = 0, pipefd[2];
	const char *hold = NULL;
	if (pipe(pipefd) != 0)
		return 3;
	for (int i = 1; i < argc; i++) {
		const char *m = argv[i];
		struct io_uring_params p;
		unsigned entries = 8;
		memset(&p, 0, sizeof(p));
		if (strncmp(m, "hold=", 5) == 0) {
			hold = m + 5;
			continue;
		}
		modes++;
		if (strcmp(m, "zero-entries") == 0) {
			entries = 0;
		} else if (strcmp(m, "too-many") == 0) {
			entries = 65536;
		} else if (strcmp(m, "resv") == 0) {
			p.resv[1] = 7;
		} else if (strcmp(m, "unknown-flag") == 0) {
			p.flags = 1U << 30;
		} else if (strcmp(m, "aff-no-sqpoll") == 0) {
			p.flags = IORING_SETUP_SQ_AFF;
		} else if (strcmp(m, "bad-cpu") == 0) {
			p.flags = IORING_SETUP_SQPOLL | IORING_SETUP_SQ_AFF;
			p.sq_thread_cpu = 4095;
		} else if (strcmp(m, "cq-small") == 0) {
			p.flags = IORING_SETUP_CQSIZE;
			p.cq_entries = 2;
		} else if (strcmp(m, "defer-no-single") == 0) {
			p.flags = IORING_SETUP_DEFER_TASKRUN;
		} else if (strcmp(m, "attach-not-ring") == 0) {
			p.flags = IORING_SETUP_ATTACH_WQ;
			p.wq_fd = (unsigned)pipefd[0];
		} else {
			fprintf(stderr, "uring_bad: unknown mode %s\n", m);
			return 2;
		}
		long fd = syscall(SYS_io_uring_setup, entries, &p);
		int err = fd < 0 ? errno : 0;
		if (fd >= 0)
			close((int)fd);
		printf("%s %d\n", m, err);
		fflush(stdout);
		if (err == EINVAL)
			einval++;
	}
	for (int i = 0; hold && i < 6000 && access(hold, F_OK) != 0; i++)
		usleep(10000);
	return einval == modes ? 0 : 1;
}
