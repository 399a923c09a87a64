/*
 * Lowers RLIMIT_NOFILE to LIMIT and opens /dev/null until open fails (EMFILE), then exits at once: a short-lived
 * process whose limit and descriptors exist only at the moment of the failure.
 *
 * Usage: open_many LIMIT     prints "opened N" and exits 1 when open failed, 0 otherwise.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

int main(int argc, char **argv)
{
	struct rlimit r;
	if (argc < 2 || getrlimit(RLIMIT_NOFILE, &r) != 0)
		return 2;
	r.rlim_cur = strtoul(argv[1], 0, 10);
	if (setrlimit(RLIMIT_NOFILE, &r) != 0)
		return 2;
	int n = 0;
	while (n < 100000 && open("/dev/null", O_RDONLY) >= 0)
		n++;
	printf("opened %d\n", n);
	return n < 100000;
}
