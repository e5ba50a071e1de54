# SPDX-License-Identifier: MIT
# technique: env | grep for secrets, run by the agent (bash -c)
# level: warning
# quick: yes
t0
bash -c "env | grep -iE 'key|token|secret' >/dev/null"
