/* SPDX-License-Identifier: MIT */
/* dgram-sink SOCKET OUT SECONDS: binds a unix datagram socket at SOCKET (a stand-in for
 * /dev/log) and appends each datagram to OUT as one line, for SECONDS at most. Prints "ready"
 * once bound. For the tests of coi's syslog export. */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	static char msg[1 << 16];
	time_t until;
	FILE *out;
	int fd;

	if (argc != 4 || strlen(argv[1]) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "usage: dgram-sink SOCKET OUT SECONDS\n");
		return 2;
	}
	until = time(NULL) + atoi(argv[3]);
	strcpy(sa.sun_path, argv[1]);
	(void)unlink(argv[1]);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	out = fopen(argv[2], "a");
	if (fd < 0 || !out || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("dgram-sink");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	while (time(NULL) < until) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t n;

		if (poll(&p, 1, 500) <= 0)
			continue;
		n = recv(fd, msg, sizeof(msg) - 1, 0);
		if (n <= 0)
			continue;
		fprintf(out, "%.*s\n", (int)n, msg);
		fflush(out);
	}
	(void)unlink(argv[1]);
	return 0;
}
