# SPDX-License-Identifier: MIT
# monitor-lib.sh: helpers for the 5N-monitor-*.t tests, on top of lib.sh. Each test gets its own
# COI_HOME (audit logs, supervisor pid files) and containers from the tiny busybox image with
# stub programs (python3, socat, pwsh, apt-get, npm, ...: scripts that live 0.3 s, so the exec
# event carries the command line an agent would run). Every wait is bounded.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
t_require_daemon
[ "$(id -u)" = 0 ] || t_bail "the monitor tests need root (proc connector, sock_diag, nflog)"
export COI_HOME
COI_HOME=$(mktemp -d /tmp/coi-t-monitor-home.XXXXXX)
t_defer "rm -rf $COI_HOME"
GW=$(incus network list -f csv -c n,4 2>/dev/null | awk -F, '$2 ~ /\// {sub(/\/.*/, "", $2); print $2; exit}')
STUBS="python3 python perl ruby php node pwsh socat apt-get npm npx pip yarn cargo git claude"

# m_launch NAME [incus launch options]: a container with stubs and a running supervisor.
m_launch() {
    local c=$1
    shift
    t_launch "$c" -c limits.processes=500 "$@" || return 1
    t_defer "'$COI' monitor '$c' --stop"
    for _ in $(seq 50); do incus exec "$c" -- true 2>/dev/null && break; sleep 0.1; done
    # Stubs are scripts that live a moment, as the real programs would.
    incus exec "$c" -- sh -c "mkdir -p /usr/bin && for s in $STUBS; do printf '#!/bin/sh\nusleep 300000\n' >/usr/bin/\$s; chmod 755 /usr/bin/\$s; done"
}

# m_monitor NAME [coi monitor options]: start the detached monitor.
m_monitor() {
    local c=$1
    shift
    "$COI" monitor "$c" --daemon "$@" >/dev/null
}

# m_client NAME: puts /tmp/implant into NAME (tests/e2e/monitor-implant.c, built once): a
# client that connects and holds (`/tmp/implant PORT ADDR hold`), or connects and execs
# (`/tmp/implant PORT ADDR exec PROG ARGS...`). (busybox's nc was once taken for a shell holding
# a connection, busybox being the image's shell too: e2e 50 "busybox" checks it is not.)
m_client() {
    [ -x "$COI_HOME/implant" ] ||
        cc -static -O1 -o "$COI_HOME/implant" "$T_ROOT/tests/e2e/monitor-implant.c" || return 1
    incus file push -q "$COI_HOME/implant" "$1/tmp/implant" --mode 0755
}

# m_run NAME SCRIPT: what an agent does: sh -c SCRIPT, bounded to 10 s.
m_run() { timeout -k 1 10 incus exec "$1" -- sh -c "$2" >/dev/null 2>&1 || true; }

m_state() { incus list "$1" -c s -f csv 2>/dev/null; }

# m_wait_state NAME STATE ("" for gone): up to 10 s.
m_wait_state() {
    for _ in $(seq 100); do
        [ "$(m_state "$1")" = "$2" ] && return 0
        sleep 0.1
    done
    return 1
}

m_audit() { cat "$COI_HOME/audit/$1.jsonl" 2>/dev/null; }
m_lines() { m_audit "$1" | wc -l; }

# m_wait_rule NAME RULE [TENTHS]: up to TENTHS/10 s (10 s) for an audit line of RULE (not a
# repeat); prints it.
m_wait_rule() {
    local line
    for _ in $(seq "${3:-100}"); do
        line=$(m_audit "$1" | jq -c "select(.rule == \"$2\" and .action != \"deduplicated\")" 2>/dev/null | tail -1)
        [ -n "$line" ] && { printf '%s' "$line"; return 0; }
        sleep 0.1
    done
    return 1
}

# m_supervisor_gone NAME: the detached monitor exited (its pid file lock is free), up to 10 s.
m_supervisor_gone() {
    for _ in $(seq 100); do
        [ "$("$COI" monitor "$1" --stop 2>/dev/null)" = "not running" ] && return 0
        sleep 0.1
    done
    return 1
}

# m_session WS CONFIG: a real session, `coi run -- sleep 90` in workspace WS (made a git
# repository) with CONFIG as the user configuration, its output in WS.out; sets name and pid.
# Waits (bounded) for the container and its supervisor; returns non-zero if either is missing.
m_session() {
    local ws=$1
    mkdir -p "$ws" && git -C "$ws" init -q
    name="${COI_CONTAINER_PREFIX:-coi-}$(printf '%s' "$ws" | sha256sum | cut -c1-8)-1"
    t_defer "incus delete -f $name"
    t_defer "'$COI' monitor '$name' --stop"
    (cd "$ws" && exec env COI_CONFIG="$2" "$COI" run --image "$T_IMAGE" -- sleep 90 >"$ws.out" 2>&1) &
    pid=$!
    t_defer "kill -TERM $pid 2>/dev/null"
    t_wait_running "$name" || return 1
    for _ in $(seq 100); do [ -s "$COI_HOME/run/$name.pid" ] && return 0; sleep 0.1; done
    return 1
}
