// SPDX-License-Identifier: MIT
/*
 * syscalls: a system call microbenchmark for tracer overhead (see bench/README.md).
 *
 *   syscalls fail    THREADS ITERS   openat(AT_FDCWD, MISSING, O_RDONLY) = -1 ENOENT, in a loop
 *   syscalls getppid THREADS ITERS   getppid(), a cheap call that succeeds
 *   syscalls mix     THREADS ITERS   alternately one of each (50/50)
 *   syscalls marker [S]              one failing openat of MARKER, its CLOCK_REALTIME time printed
 *                                    (then S seconds of sleep before exiting; default 0)
 *
 * Each of THREADS threads (1 or 2) makes ITERS calls, using the raw syscall(2) wrapper so that
 * exactly one system call is made per iteration. Threads start together at a barrier; each
 * times its own loop with clock_gettime(CLOCK_MONOTONIC) (vDSO: no system call). Output, one
 * line of key=value pairs on stdout:
 *
 *   mode=fail threads=1 iters=3000000 calls=3000000 failures=3000000 ns_per_call=612.3
 *       cpu_ns_per_call=611.0 wall_s=1.837 calls_per_s=1633010 failures_per_s=1633010 cpu_s=1.842
 *
 * ns_per_call is the mean over threads of (thread loop time / ITERS): the latency of one call
 * as a thread sees it. cpu_ns_per_call is the same with the thread's CPU time
 * (CLOCK_THREAD_CPUTIME_ID): what the call costs on its own CPU, in-kernel tracing included,
 * without the time spent waiting for a CPU on a loaded machine (or stopped by a ptrace tracer). calls_per_s and failures_per_s are totals over all threads divided by the
 * wall time from the barrier to the last thread's end. cpu_s is this process's own user + system
 * time (getrusage), so that a script can subtract it from a tracer's CPU time when the tracer's
 * rusage includes its reaped child (the benchmark itself). end_realtime_ns is CLOCK_REALTIME after
 * the loops, so that a script can tell how long a tracer takes to exit after its command.
 * machine_busy, machine_steal and machine_cpu_ns_per_call: from /proc/stat read just before the
 * threads start and after the last one ended, the share of all CPUs' time that was busy (any task:
 * the loop, a tracer, anything else) and stolen by the hypervisor, and the busy CPU time per call.
 * Where the busy share is ~1 the loop's wall time is set by the machine's CPU time per call: whatever
 * a tracer spends during the loop comes out of the loop's time (bench/README: two threads on two CPUs).
 *
 * marker mode: the first system call of main() is the failing openat of MARKER; the
 * CLOCK_REALTIME time taken just before it is printed as marker_realtime_ns=N, so that a
 * script that recorded the tracer's launch time can compute launch -> first traced call.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* Distinctive paths, so a tracer's output can be searched for exactly these calls. */
#define MISSING "/nonexistent-whyfail-bench/missing"
#define MARKER  "/nonexistent-whyfail-bench/marker"

enum mode { M_FAIL, M_GETPPID, M_MIX };

struct worker {
	pthread_t th;
	enum mode mode;
	long iters;
	long failures;
	double ns;         /* loop time of this thread */
	double cpu_ns;     /* CPU time of this thread during its loop */
	struct timespec end;
};

static pthread_barrier_t start_barrier;

static double ts_diff_ns(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) * 1e9 + (double)(b->tv_nsec - a->tv_nsec);
}

/* The first line of /proc/stat, in clock ticks: busy (user, nice, system, irq, softirq), idle (idle,
 * iowait) and steal. 0 when it cannot be read. Read outside the timed loops. */
struct cpu_ticks {
	unsigned long long busy, idle, steal;
};

static int read_cpu_ticks(struct cpu_ticks *t)
{
	unsigned long long v[8] = {0};
	FILE *f = fopen("/proc/stat", "re");
	if (!f)
		return 0;
	int n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
		       &v[6], &v[7]);
	fclose(f);
	if (n < 8)
		return 0;
	t->busy = v[0] + v[1] + v[2] + v[5] + v[6];
	t->idle = v[3] + v[4];
	t->steal = v[7];
	return 1;
}

static inline long fail_call(void)
{
	return syscall(SYS_openat, AT_FDCWD, MISSING, O_RDONLY, 0);
}

static void *run(void *arg)
{
	struct worker *w = arg;
	struct timespec t0, t1, c0, c1;
	long failures = 0, n = w->iters;

	pthread_barrier_wait(&start_barrier);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	switch (w->mode) {
	case M_FAIL:
		for (long i = 0; i < n; i++)
			failures += fail_call() < 0;
		break;
	case M_GETPPID:
		for (long i = 0; i < n; i++)
			failures += syscall(SYS_getppid) < 0;
		break;
	case M_MIX:
		for (long i = 0; i < n; i++) {
			if (i & 1)
				failures += syscall(SYS_getppid) < 0;
			else
				failures += fail_call() < 0;
		}
		break;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
	w->failures = failures;
	w->ns = ts_diff_ns(&t0, &t1);
	w->cpu_ns = ts_diff_ns(&c0, &c1);
	w->end = t1;
	return NULL;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: syscalls fail|getppid|mix THREADS ITERS\n"
		"       syscalls marker [SECONDS]\n"
		"  THREADS is 1 or 2; each thread makes ITERS calls\n");
	exit(2);
}

int main(int argc, char **argv)
{
	if ((argc == 2 || argc == 3) && strcmp(argv[1], "marker") == 0) {
		struct timespec now;
		clock_gettime(CLOCK_REALTIME, &now);    /* vDSO, not a system call */
		long r = syscall(SYS_openat, AT_FDCWD, MARKER, O_RDONLY, 0);
		printf("mode=marker marker_realtime_ns=%lld ret=%ld\n",
		       (long long)now.tv_sec * 1000000000LL + now.tv_nsec, r);
		if (argc == 3 && atoi(argv[2]) > 0) {
			fflush(stdout);
			sleep((unsigned)atoi(argv[2]));
		}
		return 0;
	}
	if (argc != 4)
		usage();

	enum mode mode;
	if (strcmp(argv[1], "fail") == 0)
		mode = M_FAIL;
	else if (strcmp(argv[1], "getppid") == 0)
		mode = M_GETPPID;
	else if (strcmp(argv[1], "mix") == 0)
		mode = M_MIX;
	else
		usage();
	char *end;
	long threads = strtol(argv[2], &end, 10);
	if (*end || threads < 1 || threads > 2)
		usage();
	long iters = strtol(argv[3], &end, 10);
	if (*end || iters < 1)
		usage();

	struct worker w[2];
	memset(w, 0, sizeof(w));
	pthread_barrier_init(&start_barrier, NULL, (unsigned)threads + 1);
	for (long t = 0; t < threads; t++) {
		w[t].mode = mode;
		w[t].iters = iters;
		if (pthread_create(&w[t].th, NULL, run, &w[t]) != 0) {
			perror("pthread_create");
			return 1;
		}
	}
	struct timespec wall0, wall1 = {0, 0};
	struct cpu_ticks k0 = {0}, k1 = {0};
	int have_ticks = read_cpu_ticks(&k0);
	clock_gettime(CLOCK_MONOTONIC, &wall0);
	pthread_barrier_wait(&start_barrier);
	long failures = 0;
	double ns_sum = 0, cpu_sum = 0;
	for (long t = 0; t < threads; t++) {
		pthread_join(w[t].th, NULL);
		failures += w[t].failures;
		ns_sum += w[t].ns / (double)iters;
		cpu_sum += w[t].cpu_ns / (double)iters;
		if (ts_diff_ns(&wall1, &w[t].end) > 0)
			wall1 = w[t].end;
	}
	have_ticks = have_ticks && read_cpu_ticks(&k1);
	double wall_s = ts_diff_ns(&wall0, &wall1) / 1e9;
	struct timespec end_rt;
	clock_gettime(CLOCK_REALTIME, &end_rt); /* for a tracer's exit latency after the loop */
	long calls = threads * iters;
	struct rusage ru;
	double cpu_s = 0;
	if (getrusage(RUSAGE_SELF, &ru) == 0)
		cpu_s = ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
	double busy = -1, steal = -1, busy_ns_per_call = -1;
	if (have_ticks) {
		double db = (double)(k1.busy - k0.busy), di = (double)(k1.idle - k0.idle), ds = (double)(k1.steal - k0.steal);
		if (db + di + ds > 0) {
			busy = db / (db + di + ds);
			steal = ds / (db + di + ds);
			busy_ns_per_call = db * 1e9 / (double)sysconf(_SC_CLK_TCK) / (double)calls;
		}
	}
	printf("mode=%s threads=%ld iters=%ld calls=%ld failures=%ld ns_per_call=%.1f "
	       "cpu_ns_per_call=%.1f wall_s=%.3f calls_per_s=%.0f failures_per_s=%.0f cpu_s=%.3f "
	       "end_realtime_ns=%lld machine_busy=%.3f machine_steal=%.3f machine_cpu_ns_per_call=%.1f\n",
	       argv[1], threads, iters, calls, failures, ns_sum / (double)threads,
	       cpu_sum / (double)threads, wall_s, calls / wall_s, failures / wall_s, cpu_s,
	       (long long)end_rt.tv_sec * 1000000000LL + end_rt.tv_nsec, busy, steal, busy_ns_per_call);
	return 0;
}
