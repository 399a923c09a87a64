/* write_until_error [-k] FILE [N]: creates FILE and writes one byte to it N times (default 5), stopping at the first
 * write that fails (with -k: going on after failures). The results are kept in memory and printed only at the end, so the
 * program's own output is not among the writes counted: "write K = R" for each write that returned R, "write K: ENAME"
 * for each that failed. Exit status: without -k, the number K of the write that failed (0 when none did); with -k, how
 * many failed; 100 when FILE cannot be opened. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int keep = argc > 1 && strcmp(argv[1], "-k") == 0;
	if (argc < 2 + keep) {
		fprintf(stderr, "usage: write_until_error [-k] FILE [N]\n");
		return 101;
	}
	const char *file = argv[1 + keep];
	int n = argc > 2 + keep ? atoi(argv[2 + keep]) : 5;
	if (n < 1 || n > 64) n = 5;
	int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0666);
	if (fd < 0) {
		printf("open %s: %s\n", file, strerrorname_np(errno));
		return 100;
	}
	long ret[64];
	int err[64], done = 0, failed = 0, first = 0;
	for (int i = 0; i < n; i++) {
		ret[i] = write(fd, "x", 1);
		err[i] = ret[i] < 0 ? errno : 0;
		done++;
		if (ret[i] < 0) {
			failed++;
			if (!first) first = i + 1;
			if (!keep) break;
		}
	}
	close(fd);
	for (int i = 0; i < done; i++) {
		if (ret[i] < 0)
			printf("write %d: %s\n", i + 1, strerrorname_np(err[i]));
		else
			printf("write %d = %ld\n", i + 1, ret[i]);
	}
	return keep ? failed : first;
}
