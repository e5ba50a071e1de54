# SPDX-License-Identifier: MIT
# technique: env | grep for secrets, from a script file
# level: warning
# quick: no
printf 'env | grep -iE "key|token|secret"\n' >/tmp/.scan.sh
t0
bash /tmp/.scan.sh >/dev/null
