/* N failing openat calls as fast as possible (argv[1], default 1000000) from T threads (argv[2],
 * default 1). Prints the number of calls that failed. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

static long per_thread;
static long failures[64];

static void *run(void *arg)
{
	long id = (long)arg, f = 0;
	for (long i = 0; i < per_thread; i++)
		if (syscall(SYS_openat, AT_FDCWD, "/nonexistent/whyfail-flood", O_RDONLY) < 0)
			f++;
	failures[id] = f;
	return NULL;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000000;
	long t = argc > 2 ? atol(argv[2]) : 1;
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
