/* Fails in every routine way and recovers from each, then exits 0 (the verdict's "all routine" case).
 * argv[1]: a scratch directory (exists, writable). Prints "pid N" first.
 *  - search: NAME is tried in DIR/a, DIR/b (absent) and found in DIR/c;
 *  - terminal probe: isatty() on a pipe (ioctl TCGETS -> ENOTTY);
 *  - non-blocking wait: connect() of a non-blocking socket to a listening loopback socket (EINPROGRESS
 *    when the kernel does not complete it at once), then poll();
 *  - wait loop: two children, waitpid(-1) until ECHILD;
 *  - lock-free descriptor probe: lseek() on a pipe (ESPIPE). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	printf("pid %d\n", getpid());
	fflush(stdout);
	char path[4096];
	const char *dirs[] = { "a", "b", "c" };
	snprintf(path, sizeof(path), "%s/c", argv[1]);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/c/whyfail-searched.conf", argv[1]);
	close(open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644));
	for (int i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s/whyfail-searched.conf", argv[1], dirs[i]);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			close(fd);
			break;
		}
	}

	int p[2];
	if (pipe(p))
		return 3;
	if (isatty(p[0]))
		return 4;
	if (lseek(p[0], 0, SEEK_CUR) != -1 || errno != ESPIPE)
		return 5;

	int l = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	if (bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 1) || getsockname(l, (struct sockaddr *)&a, &al))
		return 6;
	int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (connect(s, (struct sockaddr *)&a, sizeof(a)) && errno == EINPROGRESS) {
		struct pollfd pf = { .fd = s, .events = POLLOUT };
		poll(&pf, 1, 5000);
	}
	close(s);
	close(l);

	for (int i = 0; i < 2; i++)
		if (fork() == 0)
			_exit(0);
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
		;
	return 0;
}
