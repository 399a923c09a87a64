/*
 * bench/floor/neighbour: a load for the other CPU while a loop runs on this one (bench/floor/neighbours), to
 * tell what a tracer's consumer costs the traced thread by merely running beside it.
 *
 *   neighbour pause|alu|mem|chase SECONDS
 *
 *   pause  a `pause` loop: a CPU that is busy but uses nearly nothing (the closest to idle a busy CPU gets)
 *   alu    four independent multiply chains: the execution units (felt only by a hyperthread sibling)
 *   mem    memset over 16 MiB, again and again: streaming writes through the caches to memory
 *   chase  a random pointer chase through 1 MiB: an L2-sized working set, latency-bound
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc != 3) { fprintf(stderr, "usage: neighbour pause|alu|mem|chase SECONDS\n"); return 2; }
	const char *k = argv[1];
	double end = now() + atof(argv[2]);
	volatile uint64_t sink = 0;
	if (!strcmp(k, "pause")) {
		while (now() < end)
			for (int i = 0; i < 10000; i++) __builtin_ia32_pause();
	} else if (!strcmp(k, "alu")) {
		uint64_t a = 1, b = 2, c = 3, d = 4;
		while (now() < end) {
			for (int i = 0; i < 100000; i++) {
				a = a * 6364136223846793005ULL + 1; b = b * 6364136223846793005ULL + 3;
				c = c * 6364136223846793005ULL + 5; d = d * 6364136223846793005ULL + 7;
			}
			sink = a ^ b ^ c ^ d;
		}
	} else if (!strcmp(k, "mem")) {
		size_t n = 16 << 20;
		char *buf = malloc(n);
		int v = 0;
		while (now() < end) memset(buf, v++, n);
		sink = buf[v];
	} else if (!strcmp(k, "chase")) {
		size_t n = (1 << 20) / sizeof(size_t);
		size_t *next = malloc(n * sizeof(size_t)), *perm = malloc(n * sizeof(size_t));
		for (size_t i = 0; i < n; i++) perm[i] = i;
		srand(1);
		for (size_t i = n - 1; i > 0; i--) { size_t j = rand() % (i + 1), t = perm[i]; perm[i] = perm[j]; perm[j] = t; }
		for (size_t i = 0; i < n; i++) next[perm[i]] = perm[(i + 1) % n];
		size_t p = 0;
		while (now() < end) {
			for (int i = 0; i < 100000; i++) p = next[p];
			sink = p;
		}
	} else {
		fprintf(stderr, "neighbour: unknown kind %s\n", k);
		return 2;
	}
	(void)sink;
	return 0;
}
