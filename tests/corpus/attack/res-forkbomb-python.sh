# SPDX-License-Identifier: MIT
# technique: a python fork bomb (bounded)
# level: high
# quick: no
t0
(ulimit -u 400; timeout 10 python3 -c '
import os, time
while True:
    try: os.fork()
    except OSError: time.sleep(0.05)
' 2>/dev/null)
sleep 2
