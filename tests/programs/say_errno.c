/* Opens argv[2] read-only; on failure prints a message in the form argv[1] names, then exits 3.
 * Forms: "errno" -> "load failed: errno=N", "error" -> "load failed (error N)", "python" -> "[Errno N] …",
 * "path" -> "cannot load PATH" (the path alone, no errno), "abort" -> nothing, then abort() (SIGABRT),
 * "none" -> nothing. The other messages never name the
 * path, so only the errno number links them. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	printf("pid %d\n", getpid());
	fflush(stdout);
	int fd = open(argv[2], O_RDONLY | O_CLOEXEC);
	if (fd >= 0)
		return 0;
	int e = errno;
	if (!strcmp(argv[1], "errno"))
		fprintf(stderr, "load failed: errno=%d\n", e);
	else if (!strcmp(argv[1], "error"))
		fprintf(stderr, "load failed (error %d)\n", e);
	else if (!strcmp(argv[1], "abort"))
		abort();
	else if (!strcmp(argv[1], "path"))
		fprintf(stderr, "cannot load %s\n", argv[2]);
	else if (!strcmp(argv[1], "python"))
		fprintf(stderr, "OSError: [Errno %d] could not load\n", e);
	return 3;
}
