/* A read() on a pipe interrupted by a signal whose handler has SA_RESTART (argv[1] == "restart")
 * or not ("norestart"). With SA_RESTART the kernel returns ERESTARTSYS at syscall exit and
 * restarts the call; without it user space sees EINTR. Exit 0 when the read finally got data
 * (restart) or failed with EINTR (norestart). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void on_usr1(int sig) { (void)sig; }

int main(int argc, char **argv)
{
	int restart = argc > 1 && strcmp(argv[1], "restart") == 0;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sa.sa_flags = restart ? SA_RESTART : 0;
	sigaction(SIGUSR1, &sa, NULL);
	int p[2];
	if (pipe(p))
		return 2;
	pid_t parent = getpid();
	pid_t c = fork();
	if (c == 0) {
		/* Signal only once the parent is blocked in read(2) (/proc/PID/syscall starts with its
		 * number, 0): a fixed delay raced with a slow machine (an emulated lab kernel). */
		char path[64], buf[128];
		snprintf(path, sizeof(path), "/proc/%d/syscall", (int)parent);
		for (int i = 0; i < 2000; i++) {
			FILE *f = fopen(path, "r");
			int blocked = 0;
			if (f) {
				blocked = fgets(buf, sizeof(buf), f) && strncmp(buf, "0 ", 2) == 0;
				fclose(f);
			}
			if (blocked)
				break;
			usleep(5000);
		}
		usleep(50000);
		kill(parent, SIGUSR1);
		usleep(300000);
		write(p[1], "x", 1);
		_exit(0);
	}
	char b;
	ssize_t n = read(p[0], &b, 1);
	int e = errno;
	waitpid(c, NULL, 0);
	if (restart)
		return n == 1 ? 0 : 1;
	return n < 0 && e == EINTR ? 0 : 1;
}
