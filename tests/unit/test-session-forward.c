/* SPDX-License-Identifier: MIT */
/* test-session-forward: the pure parts of session/forward.c: the port block of a workspace and
 * slot (the original's numbers) and the bind probe. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "session/forward.h"
#include "tap.h"

static void test_port_block(void)
{
	CHECK(forward_port_block("00000000", 1) == 20000);
	CHECK(forward_port_block("00000000", 10) == 20090);
	CHECK(forward_port_block("0190abcd", 1) == 20000); /* 0x190 = 400 wraps */
	CHECK(forward_port_block("0001ffff", 2) == 20110);
	CHECK(forward_port_block("ffff0000", 3) == 20000 + 335 * 100 + 20);
	/* the highest block still fits below 65535 */
	CHECK(forward_port_block("018f0000", 10) + FORWARD_PORT_BLOCK - 1 == 59999);
}

static void test_port_free(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	uint16_t port;

	CHECK(fd >= 0);
	CHECK(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
	CHECK(listen(fd, 1) == 0);
	CHECK(getsockname(fd, (struct sockaddr *)&a, &len) == 0);
	port = ntohs(a.sin_port);
	CHECK(forward_port_free("127.0.0.1", port) == 0);
	CHECK(forward_port_free("0.0.0.0", port) == 0);
	close(fd);
	CHECK(forward_port_free("127.0.0.1", port) == 1);
	CHECK(forward_port_free("not-an-address", port) == 0);
	CHECK(forward_port_free("192.0.2.1", port) == 0); /* not this host's */
}

int main(void)
{
	RUN(test_port_block);
	RUN(test_port_free);
	return tap_done();
}
