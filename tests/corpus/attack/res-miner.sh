# SPDX-License-Identifier: MIT
# technique: a crypto-miner: a busy core for 70 s and a pool connection
# level: warning
# quick: no
# timeout: 100
cat >/tmp/.miner.py <<X
import socket, time
s = socket.create_connection(("$ATK", 3333))
end = time.time() + 75
x = 0
while time.time() < end:
    for i in range(100000): x ^= i * 2654435761 & 0xffffffff
X
t0
timeout 80 python3 /tmp/.miner.py
