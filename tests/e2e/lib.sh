# SPDX-License-Identifier: MIT
# lib.sh: the end-to-end test library. Each tests/e2e/NN-name.t sources it, prints TAP, and talks
# to the private test daemon that scripts/setup-host --test runs (INCUS_DIR=/var/lib/coi-test), so
# tests never touch a developer's own Incus state.
#
# A test that cannot reach the daemon BAILS OUT (prove reports failure): a broken daemon must make
# the suite fail, never skip.
#
#   t_ok DESC CMD...          pass when CMD exits 0
#   t_fails DESC CMD...       pass when CMD exits non-zero
#   t_is DESC GOT EXPECTED    pass when the strings are equal
#   t_like DESC GOT REGEX     pass when GOT matches the extended regex
#   t_defer CMD...            run CMD (with eval) at exit, in reverse order of registration
#   t_name PART               a unique instance name coi-t-PART-<random>
#   t_done                    print the plan; exit 1 if anything failed

set -u
export INCUS_DIR=${COI_TEST_INCUS_DIR:-/var/lib/coi-test}
export INCUS_SOCKET="$INCUS_DIR/unix.socket"
export LC_ALL=C.UTF-8
export COI_HEALTH_OFFLINE=1 # coi health looks the agent's service up in DNS: not from the tests
T_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
COI_BUILD=${COI_BUILD:-$T_ROOT/build/dev}
COI="$COI_BUILD/coi"
T_IMAGE=coi-t-tiny
_t_n=0
_t_failed=0
_t_deferred=()

# t_diag LINE...: TAP comments. Once a check has failed they go to stderr too: prove shows a
# file's stderr without -v, so CI's log says why, not only what.
t_diag() {
    local text
    text=$(printf '# %s\n' "$@" | sed '2,$s/^/# /')
    printf '%s\n' "$text"
    [ "$_t_failed" = 0 ] || [ -n "${T_DIAG_STDOUT_ONLY:-}" ] || printf '%s\n' "$text" >&2
}

_t_result() {
    _t_n=$((_t_n + 1))
    if [ "$1" = 0 ]; then
        echo "ok $_t_n - $2"
    else
        echo "not ok $_t_n - $2"
        _t_failed=$((_t_failed + 1))
    fi
}

t_ok() {
    local desc=$1 out rc
    shift
    out=$("$@" 2>&1) && rc=0 || rc=$?
    _t_result "$rc" "$desc"
    [ "$rc" = 0 ] || t_diag "command: $*" "exit $rc: $(printf '%s' "$out" | tail -c 2000)"
    return 0
}

t_fails() {
    local desc=$1 out rc
    shift
    out=$("$@" 2>&1) && rc=0 || rc=$?
    if [ "$rc" != 0 ]; then _t_result 0 "$desc"; else
        _t_result 1 "$desc"
        t_diag "command unexpectedly succeeded: $*" "$(printf '%s' "$out" | tail -c 2000)"
    fi
    return 0
}

t_is() {
    if [ "$2" = "$3" ]; then _t_result 0 "$1"; else
        _t_result 1 "$1"
        t_diag "got:      '$2'" "expected: '$3'"
    fi
}

t_like() {
    if [[ "$2" =~ $3 ]]; then _t_result 0 "$1"; else
        _t_result 1 "$1"
        t_diag "got:   '$2'" "wanted /$3/"
    fi
}

t_bail() {
    echo "Bail out! $*"
    exit 255
}

t_defer() { _t_deferred+=("$*"); }

_t_run_deferred() {
    local i
    for ((i = ${#_t_deferred[@]} - 1; i >= 0; i--)); do
        eval "${_t_deferred[$i]}" >/dev/null 2>&1 || true
    done
}
trap _t_run_deferred EXIT

t_name() { printf 'coi-t-%s-%s' "$1" "$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')"; }

t_done() {
    echo "1..$_t_n"
    [ "$_t_failed" = 0 ]
}

# The daemon must answer, and the tiny image must exist (tests/e2e/setup makes both).
t_require_daemon() {
    [ -S "$INCUS_SOCKET" ] && incus admin waitready --timeout 10 >/dev/null 2>&1 ||
        t_bail "the test daemon at $INCUS_DIR does not answer (run: scripts/setup-host --test)"
    incus image info "$T_IMAGE" >/dev/null 2>&1 ||
        t_bail "test image $T_IMAGE missing (run: tests/e2e/setup)"
    [ -x "$COI" ] || t_bail "no coi binary at $COI (run: make)"
}

# Launch a throwaway container from the tiny image. Register its deletion with t_defer first:
# under t_ok this runs in a subshell, where a t_defer would be lost.
t_launch() {
    local name=$1
    shift
    incus launch "$T_IMAGE" "$name" -c boot.autostart=false "$@" >/dev/null
}

# The container name coi gives slot N of workspace WS.
t_session_name() { printf 'coi-%s-%s' "$(printf '%s' "$1" | sha256sum | cut -c1-8)" "$2"; }

# The pid of the supervisor of container NAME (`coi monitor NAME --daemon`), if one runs. Its DNS
# filter is a fork of it, with the same command line: told apart by its name, coi-dns.
t_supervisor_pid() {
    local p
    for p in $(pgrep -f "^coi monitor $1 --daemon"); do
        [ "$(cat "/proc/$p/comm" 2>/dev/null)" != coi-dns ] && echo "$p"
    done
}

# Wait (bounded, ~15 s) until instance NAME is RUNNING.
t_wait_running() {
    local i
    for i in $(seq 150); do
        [ "$(incus list "$1" -c s -f csv 2>/dev/null)" = RUNNING ] && return 0
        sleep 0.1
    done
    return 1
}

# Wait (bounded, ~15 s) until instance NAME no longer exists.
t_wait_gone() {
    local i
    for i in $(seq 150); do
        [ -z "$(incus list "$1" -c n -f csv 2>/dev/null)" ] && return 0
        sleep 0.1
    done
    return 1
}

# Run a command as the ordinary user coitest (uid/gid 1234, in incus-admin and not in root's
# group: tests/e2e/setup makes it), with its own coi home. It execs: call it in a subshell, e.g.
# $(t_as_user ...) or (cd dir && t_as_user ...) &, so that a background job's pid is the
# command's own and signals reach it.
t_as_user() {
    local home=/tmp/coi-t-home-1234
    mkdir -p "$home" && chown 1234:1234 "$home"
    exec setpriv --reuid 1234 --regid 1234 --init-groups env HOME="$home" USER=coitest \
        COI_HOME="$home/.coi" "$@"
}

# Wait (bounded, ~15 s) until a process matching PATTERN runs in instance NAME: the session has
# finished starting and its command runs.
t_wait_cmd() {
    local i
    for i in $(seq 150); do
        # procps (coi-default) lists only the terminal's processes without -e; busybox has no -e;
        # coi's own wait for the guest's network (session_net_ready_script) is not the command
        incus exec "$1" -- sh -c 'ps -eo args 2>/dev/null || ps -o args' 2>/dev/null |
            grep -v '^sleep 0\.05$' | grep -q "^$2" && return 0
        sleep 0.1
    done
    return 1
}

# Wait (bounded: SECS, default 20) until workspace WS has no container left: an ephemeral
# session's container is deleted by a detached child after coi returns, and a session started
# meanwhile would take the next slot.
#   t_wait_ws_clear WS [SECS]
t_wait_ws_clear() {
    local prefix i
    prefix="coi-$(printf '%s' "$1" | sha256sum | cut -c1-8)-"
    for i in $(seq $((${2:-20} * 10))); do
        [ -z "$(incus list "$prefix" -c n -f csv 2>/dev/null)" ] && return 0
        sleep 0.1
    done
    return 1
}

# A long session in the background, for tests that look at a running container from outside.
#   t_bg_session WHO WS CONFIG_TEXT: `coi run -- sleep 120` in workspace WS (made if missing),
#   with CONFIG_TEXT (printf %b) as the user config, WS.toml; WHO is root (this host user) or
#   uid1234 (t_as_user; WS is chowned to it). Sets name (the container) and pid (coi's); coi's
#   stderr goes to WS.err. Deletion and kill are deferred.
#   t_bg_up        wait until its command runs (bounded); prints the .err files on failure
#   t_bg_end       end it with SIGTERM and check the container goes
#   t_in_as AS SCRIPT   run sh -c SCRIPT in /workspace as code (1000) or root, stderr dropped
t_bg_session() {
    local who=$1 ws=$2
    mkdir -p "$ws"
    printf '%b' "$3" >"$ws.toml"
    chmod 644 "$ws.toml"
    name=$(t_session_name "$ws" 1)
    t_defer "incus delete -f '$name'"
    if [ "$who" = root ]; then
        (cd "$ws" && COI_CONFIG=$ws.toml exec "$COI" run --image "$T_IMAGE" -- sleep 120 >/dev/null 2>"$ws.err") &
    else
        chown -R 1234:1234 "$ws"
        (cd "$ws" && t_as_user env COI_CONFIG="$ws.toml" "$COI" run --image "$T_IMAGE" -- sleep 120 >/dev/null 2>"$ws.err") &
    fi
    pid=$!
    _t_bg_err=$ws.err
    t_defer "kill $pid 2>/dev/null"
}
t_bg_up() { t_wait_running "$name" && t_wait_cmd "$name" sleep || { cat "$_t_bg_err"; return 1; }; }
t_bg_end() {
    kill -TERM "$pid"
    wait "$pid" 2>/dev/null
    t_ok "the session ends" t_wait_gone "$name"
}
# (bounded: an exec into a container the monitor froze would wait for ever; incus forwards a plain
# TERM to the frozen command, hence KILL)
t_in_as() {
    if [ "$1" = root ]; then
        timeout -s KILL 180 incus exec "$name" --cwd /workspace -- sh -c "exec 2>/dev/null; $2" </dev/null
    else
        timeout -s KILL 180 incus exec "$name" --cwd /workspace --user 1000 --group 1000 -- sh -c "exec 2>/dev/null; $2" </dev/null
    fi
}

# A terminal on the host for the interactive path (coi shell, coi attach): window t1 of the tmux
# server $T (the test's own: T="tmux -L coi-t-NAME-$$").
#   t_screen          what t1 shows
#   t_wait_screen RE  wait (bounded, ~40 s) until t1 shows a match of the extended regex RE
#   t_term CMD        CMD in a fresh 120x30 t1 in $ws, then COI-EXIT=<its status>, the window kept
#                     (unset TMUX: coi there is not in the user's own tmux, Ctrl-b is coi's)
t_screen() { $T capture-pane -p -t t1 2>/dev/null; }
t_wait_screen() {
    local i
    for i in $(seq 200); do
        [[ "$(t_screen)" =~ $1 ]] && return 0
        sleep 0.2
    done
    return 1
}
t_term() {
    local i
    $T kill-session -t t1 2>/dev/null
    # (the last session killed, the server exits: a new-session racing it fails with "server
    # exited unexpectedly"; a few tries, bounded)
    for i in 1 2 3 4 5; do
        $T new-session -d -s t1 -x 120 -y 30 "unset TMUX; cd '$ws' && $*; echo COI-EXIT=\$?; sleep 120" && return 0
        sleep 0.3
    done
    return 1
}

# t_workspace TAG: a fresh workspace of the test's own, made in the test's shell (not a subshell:
# it cds and exports). Sets tmp (/tmp/coi-t-TAG-XXXX, removed at exit), ws ($tmp/ws, a git
# repository and the current directory), COI_HOME ($tmp/coi, exported) and prefix (the names of
# the workspace's containers, coi-<hash>-: slots 1 to 4, a session's and the warm pool's, are
# deleted at exit).
t_workspace() {
    local s
    tmp=$(mktemp -d "/tmp/coi-t-$1-XXXX") || t_bail "no temporary directory"
    t_defer "rm -rf '$tmp'"
    ws=$tmp/ws
    mkdir -p "$ws" && git -C "$ws" init -q
    cd "$ws" || t_bail "no workspace"
    export COI_HOME=$tmp/coi
    prefix=$(t_session_name "$ws" "")
    for s in 1 2 3 4; do t_defer "incus delete -f $prefix$s 2>/dev/null"; done
}

# The warm pool (session/warm.h) from outside.
#   t_warm_names PREFIX [base]   the running containers named PREFIX* that carry a warm mark (a
#                                claim takes it away), one per line; with "base", each followed by
#                                its volatile.base_image (the image it was made from)
#   t_wait_warm PREFIX N SECS    wait (bounded) until at least N of them
#   t_warm_marks PREFIX          their warm marks (the hash of what they were made for), one a line
#   t_warm_renewed PREFIX MARK SECS  wait (bounded) until there is one and none has MARK: a stale
#                                container went and one of the new config booted behind it
t_warm_names() {
    incus list "$1" -f json | python3 -c '
import json, re, sys
for i in json.load(sys.stdin):
    if i["status"] == "Running" and re.fullmatch("[0-9a-f]{64}", i["config"].get("user.coi.warm", "")):
        print(i["name"], i["config"].get("volatile.base_image", "")) if sys.argv[1] else print(i["name"])' "${2:-}"
}
t_wait_warm() {
    local i
    for i in $(seq $(($3 * 2))); do
        [ "$(t_warm_names "$1" | wc -l)" -ge "$2" ] && return 0
        sleep 0.5
    done
    return 1
}
t_warm_marks() {
    local n
    for n in $(t_warm_names "$1"); do incus config get "$n" user.coi.warm; done
}
t_warm_renewed() {
    local i m
    for i in $(seq $(($3 * 2))); do
        m=$(t_warm_marks "$1")
        [ -n "$m" ] && ! grep -qx "$2" <<<"$m" && return 0
        sleep 0.5
    done
    return 1
}

# t_gw_listener SECS: a TCP listener on the Incus bridge's own address, the host itself, which
# restricted mode refuses (so a "refused" from inside is the firewall's, not a closed port), for
# SECS seconds; sets gw and port.
t_gw_listener() {
    local br
    br=$(incus profile device get default eth0 network)
    gw=$(incus network get "$br" ipv4.address)
    gw=${gw%/*}
    port=$((20000 + RANDOM % 20000))
    python3 -c "
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('$gw', $port)); s.listen(8); s.settimeout(1); end = time.time() + $1
while time.time() < end:
    try: s.accept()[0].close()
    except OSError: pass
" &
    t_defer "kill $! 2>/dev/null"
}
