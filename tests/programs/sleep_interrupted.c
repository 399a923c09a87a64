/* Three calls a signal with a handler (no SA_RESTART) interrupts, in this order:
 *  1. rt_sigsuspend: SIGUSR1 raised while blocked, then unblocked by the call's mask (pending before the call:
 *     the kernel returns ERESTARTNOHAND at once, the handler runs, the program sees EINTR);
 *  2. nanosleep(5 s): a child sends SIGUSR1 once the parent sleeps (ERESTART_RESTARTBLOCK; the kernel writes the
 *     remaining time);
 *  3. pause(): likewise (ERESTARTNOHAND).
 * Exit 0 when all three returned -1 EINTR. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void on_usr1(int sig) { (void)sig; }

/* A child that sends SIGUSR1 once the parent is blocked in system call nr (/proc/PID/syscall starts with it). */
static pid_t signal_when_blocked(pid_t parent, long nr)
{
	pid_t c = fork();
	if (c != 0)
		return c;
	char path[64], buf[128], want[32];
	snprintf(path, sizeof(path), "/proc/%d/syscall", (int)parent);
	snprintf(want, sizeof(want), "%ld ", nr);
	for (int i = 0; i < 4000; i++) {
		FILE *f = fopen(path, "r");
		int blocked = 0;
		if (f) {
			blocked = fgets(buf, sizeof(buf), f) && strncmp(buf, want, strlen(want)) == 0;
			fclose(f);
		}
		if (blocked)
			break;
		usleep(5000);
	}
	usleep(20000);
	kill(parent, SIGUSR1);
	_exit(0);
}

int main(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	int ok = 0;

	sigset_t usr1, none;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigemptyset(&none);
	sigprocmask(SIG_BLOCK, &usr1, NULL);
	raise(SIGUSR1);
	ok += sigsuspend(&none) == -1 && errno == EINTR;
	sigprocmask(SIG_UNBLOCK, &usr1, NULL);

	pid_t parent = getpid();
	pid_t c = signal_when_blocked(parent, SYS_nanosleep);
	struct timespec req = { .tv_sec = 5 }, rem;
	ok += syscall(SYS_nanosleep, &req, &rem) == -1 && errno == EINTR;
	waitpid(c, NULL, 0);

	c = signal_when_blocked(parent, SYS_pause);
	ok += pause() == -1 && errno == EINTR;
	waitpid(c, NULL, 0);
	return ok == 3 ? 0 : 1;
}
