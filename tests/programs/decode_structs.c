/*
 * Calls that fail with structured arguments whyfail decodes as strace does (issue 19): keyctl(KEYCTL_SEARCH)
 * with type and description strings, ioctl(SIOCSIFMTU) with a struct ifreq, setsockopt(IP_ADD_MEMBERSHIP) with
 * a struct ip_mreq. Every call is on descriptor -1 or a missing key, so each fails (ENOKEY or EBADF).
 */
#include <arpa/inet.h>
#include <linux/keyctl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
	syscall(SYS_keyctl, KEYCTL_SEARCH, KEY_SPEC_THREAD_KEYRING, "user", "whyfail-no-such-key", 0);

	struct ifreq ifr;
	memset(&ifr, 0, sizeof ifr);
	strcpy(ifr.ifr_name, "lo");
	ifr.ifr_mtu = 1400;
	ioctl(-1, SIOCSIFMTU, &ifr);

	struct ip_mreq mreq;
	mreq.imr_multiaddr.s_addr = inet_addr("224.0.0.3");
	mreq.imr_interface.s_addr = inet_addr("127.0.0.1");
	setsockopt(-1, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof mreq);
	return 0;
}
