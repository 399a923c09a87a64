/* connect_port PORT: connects a TCP socket to 127.0.0.1:PORT. Prints "pid N" first.
 * Exit status: 0 when connect succeeded, 1 when it failed. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: connect_port PORT\n");
		return 100;
	}
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[1])) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	printf("pid %d\n", getpid());
	fflush(stdout);
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	return s < 0 || connect(s, (struct sockaddr *)&a, sizeof a) < 0;
}
