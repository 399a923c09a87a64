/* perf_event_open with remove_on_exec and enable_on_exec both set, which the kernel refuses with
 * EINVAL (perf_copy_attr): once, then, after a line (or end of file) on standard input, N more times
 * (argument 1, default 3; with 0 standard input is not read). A failure that recurs after its first
 * occurrence was seen, for --pinpoint: the first occurrence arms the kprobes, the later ones are
 * pinpointed. Exit 0 when every call failed with EINVAL. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/perf_event.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

static int fails_with_einval(void)
{
	struct perf_event_attr attr = {
		.size = sizeof(attr), .type = PERF_TYPE_SOFTWARE, .config = PERF_COUNT_SW_CPU_CLOCK,
		.disabled = 1, .enable_on_exec = 1, .remove_on_exec = 1,
	};
	long fd = syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
	if (fd >= 0) {
		close((int)fd);
		return 0;
	}
	return errno == EINVAL;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 3;
	int ok = fails_with_einval();
	char c;
	while (n > 0 && read(0, &c, 1) == 1 && c != '\n')
		;
	for (int i = 0; i < n; i++)
		ok &= fails_with_einval();
	return ok ? 0 : 1;
}
