/* What git does outside a repository: looks for NAME (argv[2]) in DIR (argv[1]) and each of its parents up to /
 * (stat: ENOENT in each), then, as gettext does for the message it is about to print, tries a message catalog that is
 * not there (one open: ENOENT), then prints "fatal: not a project (or any of the parent directories): NAME" and exits
 * 128. Prints "pid PID" first. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 4)
		return 2;
	printf("pid %d\n", getpid());
	fflush(stdout);
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s", argv[1]);
	for (;;) {
		char path[4200];
		struct stat st;
		snprintf(path, sizeof(path), "%s/%s", strcmp(dir, "/") ? dir : "", argv[2]);
		if (stat(path, &st) == 0)
			return 0;
		char *slash = strrchr(dir, '/');
		if (!slash || !strcmp(dir, "/"))
			break;
		if (slash == dir)
			slash[1] = 0;
		else
			*slash = 0;
	}
	int fd = open(argv[3], O_RDONLY); /* the catalog gettext would try */
	if (fd >= 0)
		close(fd);
	fprintf(stderr, "fatal: not a project (or any of the parent directories): %s\n", argv[2]);
	return 128;
}
