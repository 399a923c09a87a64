/* bench/soak.c: a steady stream of failing calls for bench/soak, as a long-running service would see them.
 *   soak RATE SECONDS
 * Every second a new child process (named wf-soak) makes RATE failing openat calls, spread over the second,
 * on 100 different missing paths and, one call in 50, on a path never used before: new processes, repeated
 * failures and new ones, as on a real machine. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void one_second(long rate, long second)
{
	prctl(PR_SET_NAME, "wf-soak");
	long long start = now_ns();
	char path[96];
	for (long i = 0; i < rate; i++) {
		if (i % 50 == 49)
			snprintf(path, sizeof path, "/nonexistent-wf-soak/new-%ld-%ld", second, i);
		else
			snprintf(path, sizeof path, "/nonexistent-wf-soak/p%ld", i % 100);
		openat(AT_FDCWD, path, O_RDONLY);
		long long due = start + (i + 1) * 1000000000LL / rate;
		long long wait = due - now_ns();
		if (wait > 0) {
			struct timespec t = { wait / 1000000000LL, wait % 1000000000LL };
			nanosleep(&t, NULL);
		}
	}
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: soak RATE SECONDS\n");
		return 2;
	}
	long rate = atol(argv[1]), seconds = atol(argv[2]);
	for (long s = 0; s < seconds; s++) {
		pid_t pid = fork();
		if (pid == 0) {
			one_second(rate, s);
			_exit(0);
		}
		if (pid < 0)
			return 1;
		waitpid(pid, NULL, 0);
	}
	return 0;
}
