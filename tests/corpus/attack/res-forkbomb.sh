# SPDX-License-Identifier: MIT
# technique: a bash fork bomb (bounded by ulimit and a timeout)
# level: high
# quick: yes
t0
(ulimit -u 400; timeout 10 bash -c 'f(){ f | f & }; f' 2>/dev/null)
sleep 2
