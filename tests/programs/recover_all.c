/* Fails in every routine way and recovers from each, then exits 0 (the verdict's "all routine" case).
 * argv[1]: a scratch directory (exists, writable). Prints "pid N" first.
 *  - search: NAME is tried in DIR/a, DIR/b (absent) and found in DIR/c;
 *  - terminal probe: isatty() on a pipe (ioctl TCGETS -> ENOTTY);
 *  - non-blocking wait: connect() of a non-blocking socket to a listening loopback socket (EINPROGRESS
 *    when the kernel does not complete it at once), then poll();
 *  - wait loop: two children, waitpid(-1) until ECHILD;
 *  - lock-free descriptor probe: lseek() on a pipe (ESPIPE);
 *  - existence check: access() of DIR/q/whyfail-asked (absent), nothing else done in DIR/q;
 *  - fallback: DIR/f/whyfail-lang.de_DE.UTF-8 absent, then DIR/f/whyfail-lang.de opened;
 *  - already exists: mkdir() of DIR/c a second time (EEXIST);
 *  - lock retry: futex(FUTEX_WAIT) on a word whose value is not the expected one (EAGAIN);
 *  - optional file: DIR/o/whyfail-optional.conf opened read-only, absent, never mentioned;
 *  - optional service: connect() of a unix socket to DIR/whyfail-absent.sock (ENOENT). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <linux/futex.h>
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

	snprintf(path, sizeof(path), "%s/q/whyfail-asked", argv[1]); /* a directory nothing else uses: no fallback */
	if (access(path, F_OK) == 0)
		return 7;

	snprintf(path, sizeof(path), "%s/f", argv[1]);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/f/whyfail-lang.de", argv[1]);
	close(open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644));
	snprintf(path, sizeof(path), "%s/f/whyfail-lang.de_DE.UTF-8", argv[1]);
	int fd = open(path, O_RDONLY);
	if (fd < 0) {
		snprintf(path, sizeof(path), "%s/f/whyfail-lang.de", argv[1]);
		fd = open(path, O_RDONLY);
	}
	if (fd < 0)
		return 8;
	close(fd);

	snprintf(path, sizeof(path), "%s/c", argv[1]);
	if (mkdir(path, 0755) == 0 || errno != EEXIST)
		return 9;

	int word = 1;
	if (syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 2, NULL, NULL, 0) != -1 || errno != EAGAIN)
		return 10;

	snprintf(path, sizeof(path), "%s/o", argv[1]);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/o/whyfail-optional.conf", argv[1]);
	fd = open(path, O_RDONLY);
	if (fd >= 0)
		close(fd);

	int u = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un ua = { .sun_family = AF_UNIX };
	snprintf(ua.sun_path, sizeof(ua.sun_path), "%s/whyfail-absent.sock", argv[1]);
	if (connect(u, (struct sockaddr *)&ua, sizeof(ua)) == 0)
		return 11;
	close(u);

	for (int i = 0; i < 2; i++)
		if (fork() == 0)
			_exit(0);
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
		;
	return 0;
}
