/*
 * open(DIR, O_TMPFILE | MODE) and exit at once: "ro" asks for O_RDONLY (the kernel refuses O_TMPFILE without write
 * access: EINVAL), "rw" for O_RDWR (refused with EOPNOTSUPP where the file system has no unnamed temporary files).
 *
 * Usage: tmpfile_open DIR ro|rw     prints "errno E" and exits 1 when open failed, 0 when it worked.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	int fd = open(argv[1], O_TMPFILE | (strcmp(argv[2], "rw") == 0 ? O_RDWR : O_RDONLY), 0600);
	printf("errno %d\n", fd < 0 ? errno : 0);
	return fd < 0;
}
