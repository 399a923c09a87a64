/* Fails openat(PREFIX-final) while whyfail's reader sleeps, less than LIMIT_US after a failure that woke it; then
 * stays quiet (blocked reading stdin: no system call fails or follows a failure) until stdin ends.
 * Usage: fail_behind_wake PREFIX LIMIT_US TRIES. Prints its pid, reads READER_PID (whyfail's) from a line of stdin, then tries
 * up to TRIES times: after 15 ms of quiet (so that the next failure wakes the reader), fails openat(PREFIX-N), waits until
 * READER_PID's main thread has slept since then and sleeps now in poll/epoll_wait (it has read that failure and
 * waits for the next wake-up); when that came within LIMIT_US (under whyfail's wake period: the next failure wakes
 * nobody), fails openat(PREFIX-final) at once; else tries again (after TRIES tries it fails PREFIX-final anyway).
 * Then it stays quiet until stdin ends, and prints "armed N" (the try that armed it) or "not armed". */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char wchan_path[64], status_path[64];

static long now_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000L + t.tv_nsec / 1000;
}

static int read_file(const char *path, char *buf, int size)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	int n = read(fd, buf, size - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	return n;
}

/* The reader's voluntary context switches (it sleeps), -1 when it cannot be read. */
static long sleeps(void)
{
	char buf[4096];
	if (read_file(status_path, buf, sizeof buf) < 0)
		return -1;
	char *p = strstr(buf, "\nvoluntary_ctxt_switches:");
	return p ? atol(p + 25) : -1;
}

static int in_poll(void)
{
	char buf[128];
	return read_file(wchan_path, buf, sizeof buf) > 0 && strstr(buf, "poll") != NULL;
}

static void fail(const char *prefix, const char *what)
{
	char path[4096];
	snprintf(path, sizeof path, "%s-%s", prefix, what);
	int fd = openat(AT_FDCWD, path, O_RDONLY);
	if (fd >= 0)
		close(fd);
}

int main(int argc, char **argv)
{
	if (argc < 4)
		return 2;
	long limit = atol(argv[2]);
	int tries = atoi(argv[3]);
	char line[64], n[16];
	printf("pid %d\n", getpid());
	fflush(stdout);
	if (!fgets(line, sizeof line, stdin))
		return 2;
	int reader = atoi(line);
	snprintf(wchan_path, sizeof wchan_path, "/proc/%d/task/%d/wchan", reader, reader);
	snprintf(status_path, sizeof status_path, "/proc/%d/task/%d/status", reader, reader);
	int armed = -1;
	for (int i = 0; i < tries && armed < 0; i++) {
		usleep(15000);
		long s0 = sleeps();
		long t0 = now_us();
		snprintf(n, sizeof n, "%d", i);
		fail(argv[1], n);
		while (now_us() - t0 < limit) {
			if (sleeps() > s0 && in_poll()) {
				fail(argv[1], "final");
				armed = i;
				break;
			}
		}
	}
	if (armed < 0)
		fail(argv[1], "final");
	while (fgets(line, sizeof line, stdin))
		;
	if (armed < 0)
		printf("not armed\n");
	else
		printf("armed %d\n", armed);
	return 0;
}
