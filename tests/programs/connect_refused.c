/* A non-blocking connect to a loopback port nobody listens on: connect -> EINPROGRESS, poll, then
 * getsockopt(SO_ERROR) hands over ECONNREFUSED as data. Prints "pid N port P", exits 1 when refused.
 * With the argument "say": then writes "could not reach 127.0.0.1:P" to standard error (the address alone). */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	/* a free port: bound, then closed */
	int t = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	if (bind(t, (struct sockaddr *)&a, sizeof(a)) || getsockname(t, (struct sockaddr *)&a, &al))
		return 2;
	close(t);
	printf("pid %d port %d\n", getpid(), ntohs(a.sin_port));
	fflush(stdout);
	int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (connect(s, (struct sockaddr *)&a, sizeof(a)) == 0)
		return 0;
	if (errno != EINPROGRESS)
		return 3;
	struct pollfd pf = { .fd = s, .events = POLLOUT };
	poll(&pf, 1, 5000);
	int err = 0;
	socklen_t el = sizeof(err);
	getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &el);
	if (err == ECONNREFUSED && argc > 1 && argv[1][0] == 's')
		fprintf(stderr, "could not reach 127.0.0.1:%d\n", ntohs(a.sin_port));
	return err == ECONNREFUSED ? 1 : 4;
}
