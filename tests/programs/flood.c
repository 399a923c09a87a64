/* N failing openat calls as fast as possible (argv[1], default 1000000) from T threads (argv[2],
 * default 1). Prints the number of calls that failed. With argv[3] "vary", each call opens another
 * missing path (/nonexistent/whyfail-flood-<thread>-<i>), so that no two failures are identical. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static long per_thread;
static int vary;
static long failures[64];

static void *run(void *arg)
{
	long id = (long)arg, f = 0;
	char path[64] = "/nonexistent/whyfail-flood";
	for (long i = 0; i < per_thread; i++) {
		if (vary)
			snprintf(path, sizeof path, "/nonexistent/whyfail-flood-%ld-%ld", id, i);
		if (syscall(SYS_openat, AT_FDCWD, path, O_RDONLY) < 0)
			f++;
	}
	failures[id] = f;
	return NULL;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000000;
	long t = argc > 2 ? atol(argv[2]) : 1;
	vary = argc > 3 && strcmp(argv[3], "vary") == 0;
	if (t < 1 || t > 64)
		return 2;
	per_thread = n / t;
	pthread_t th[64];
	for (long i = 0; i < t; i++)
		pthread_create(&th[i], NULL, run, (void *)i);
	long total = 0;
	for (long i = 0; i < t; i++) {
		pthread_join(th[i], NULL);
		total += failures[i];
	}
	printf("%ld\n", total);
	return 0;
}
