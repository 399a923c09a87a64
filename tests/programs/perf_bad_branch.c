/* perf_event_open with PERF_SAMPLE_BRANCH_STACK and branch_sample_type bits that no kernel defines:
 * the kernel rejects the attribute with EINVAL (perf_copy_attr). Exit 0 when it failed with EINVAL.
 * With the argument "ok-first", the same thread first opens (and closes) a valid software counter,
 * so that a successful call can be compared with the failing one. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/perf_event.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static long open_counter(int bad)
{
	struct perf_event_attr attr;
	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.type = PERF_TYPE_SOFTWARE;
	attr.config = PERF_COUNT_SW_CPU_CLOCK;
	attr.sample_period = 100000;
	attr.disabled = 1;
	if (bad) {
		attr.sample_type = PERF_SAMPLE_BRANCH_STACK;
		attr.branch_sample_type = PERF_SAMPLE_BRANCH_ANY | (1ULL << 62);
	}
	return syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "ok-first") == 0) {
		long fd = open_counter(0);
		if (fd < 0)
			return 2;
		close((int)fd);
	}
	long fd = open_counter(1);
	return fd < 0 && errno == EINVAL ? 0 : 1;
}
