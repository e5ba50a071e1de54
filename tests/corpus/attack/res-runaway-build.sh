# SPDX-License-Identifier: MIT
# technique: a runaway build: 300 processes at once (bounded)
# level: warning
# quick: yes
t0
# (forked by python: a shell's loop is too slow on a loaded machine to be a burst)
python3 -c '
import os, time
for i in range(300):
    if os.fork() == 0:
        time.sleep(4)
        os._exit(0)
for i in range(300):
    os.wait()
'
