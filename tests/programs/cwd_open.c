/*
 * chdir(DIR), then open(RELPATH) relative to that working directory, and exit at once: the path can only be
 * resolved from the working directory the process had at the failure.
 *
 * Usage: cwd_open DIR RELPATH     prints "errno E" and exits 1 when open failed, 0 when it worked.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 3 || chdir(argv[1]) != 0)
		return 2;
	int fd = open(argv[2], O_RDONLY);
	printf("errno %d\n", fd < 0 ? errno : 0);
	return fd < 0;
}
