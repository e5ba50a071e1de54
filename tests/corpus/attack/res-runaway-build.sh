# SPDX-License-Identifier: MIT
# technique: a runaway build: 300 processes at once (bounded)
# level: warning
# quick: yes
t0
for i in $(seq 300); do sleep 4 & done
wait
