/* bench/pagefault.c — what one page fault costs on this machine, the unit of much of whyfail's start-up
 * (bench/startup): the first write to a fresh anonymous page (the GC's heap, thread stacks) and to a page of a
 * private file mapping (copy-on-write: what ld.so's relative relocations do to the executable's .data).
 * CPU time of this process per page (CLOCK_PROCESS_CPUTIME_ID), median of several passes.
 *   pagefault FILE [PAGES]     (built and run by bench/startup, FILE the binary measured: its pages as ld.so sees them)
 * prints three numbers, µs per page: anonymous; FILE's page copied at its first touch; FILE's page copied when
 * already mapped read-only */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static double cpu_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* µs per page for the first write to each of n pages of a new mapping (fd < 0: anonymous; mapped: each page of the
 * file read first, so the write copies a page already mapped read-only, as after the kernel's fault-around) */
static double pass(int fd, size_t n, int mapped)
{
	const size_t ps = (size_t)sysconf(_SC_PAGESIZE);
	char *p = mmap(0, n * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | (fd < 0 ? MAP_ANONYMOUS : 0), fd, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	if (mapped)
		for (size_t i = 0; i < n; i++)
			(void)*(volatile char *)(p + i * ps);
	double t0 = cpu_ns();
	for (size_t i = 0; i < n; i++)
		p[i * ps] = 1;
	double us = (cpu_ns() - t0) / n / 1e3;
	munmap(p, n * ps);
	return us;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: pagefault FILE [PAGES]\n");
		return 2;
	}
	size_t pages = argc > 2 ? strtoul(argv[2], 0, 10) : 2048;
	const size_t ps = (size_t)sysconf(_SC_PAGESIZE);
	int fd = open(argv[1], O_RDONLY);
	off_t size = fd < 0 ? -1 : lseek(fd, 0, SEEK_END);
	if (size < (off_t)ps) {
		perror(argv[1]);
		return 1;
	}
	if ((size_t)size / ps < pages)
		pages = (size_t)size / ps;
	enum { PASSES = 7 };
	double anon[PASSES], cow[PASSES], mapped[PASSES];
	for (int i = 0; i < PASSES; i++) {
		anon[i] = pass(-1, pages, 0);
		cow[i] = pass(fd, pages, 0);
		mapped[i] = pass(fd, pages, 1);
	}
	qsort(anon, PASSES, sizeof(double), cmp);
	qsort(cow, PASSES, sizeof(double), cmp);
	qsort(mapped, PASSES, sizeof(double), cmp);
	printf("%.2f %.2f %.2f\n", anon[PASSES / 2], cow[PASSES / 2], mapped[PASSES / 2]);
	return 0;
}
