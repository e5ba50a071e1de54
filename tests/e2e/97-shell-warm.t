#!/bin/bash
# SPDX-License-Identifier: MIT
# coi shell with [container] warm = 1 (issue 24; e2e 94 shows a claimed container's isolation
# with coi run): tmux on the host drives coi shell, the real image and its fake agent, dummy. The
# shell claims the warm container a coi run's filler booted, the agent's first screen shows in
# it, and a filler tops the pool up behind the shell while it runs (10 s after its start). The
# warm container is nobody's session: after Ctrl-b d, a bare coi attach (and coi tmux capture)
# reaches the detached agent, not the warm container beside it. The agent's exit ends the session
# (through coi attach, and through coi shell itself): its container, rules and run files go, and
# what is left of the workspace is the next warm container alone.
. "$(dirname "$0")/lib.sh"
t_require_daemon
incus image info coi-default >/dev/null 2>&1 || t_bail "coi-default missing (run: tests/e2e/setup)"

tmp=$(mktemp -d /tmp/coi-t-shwarm-XXXX)
ws=$tmp/ws
mkdir -p "$ws" && git -C "$ws" init -q
export COI_HOME=$tmp/coi
export COI_CONFIG=$tmp/c.toml
printf '[tool]\nname = "dummy"\n[container]\nwarm = 1\n' >"$COI_CONFIG"
prefix="coi-$(printf '%s' "$ws" | sha256sum | cut -c1-8)-"
T="tmux -L coi-t-shwarm-$$" # a server of this run only
t_defer "rm -rf '$tmp'"
# (coi kill: a session left by a failed check goes with its host state, rules included)
t_defer "$T kill-server 2>/dev/null; incus list '$prefix' -c n -f csv | xargs -r '$COI' kill --force >/dev/null 2>&1"
t_defer "cd '$ws' && '$COI' clean --force >/dev/null 2>&1"

warm_names() { t_warm_names "$prefix"; }
wait_warm() { # until a warm container other than $1 (if given) is marked (bounded, ~90 s)
    local i
    for i in $(seq 180); do warm_names | grep -vqx "${1:-}" && return 0; sleep 0.5; done
    return 1
}
# exactly one container of the workspace, marked warm, and it is not $1 (bounded, ~90 s)
only_next_warm() {
    local i all
    for i in $(seq 180); do
        all=$(incus list "$prefix" -c n -f csv)
        [ -n "$all" ] && [ "$(wc -l <<<"$all")" = 1 ] && [ "$all" != "$1" ] && [ "$(warm_names)" = "$all" ] && return 0
        sleep 0.5
    done
    return 1
}
rules() { nft list ruleset 2>/dev/null | grep -c "coi:$1\"" || true; }
env="INCUS_DIR=$INCUS_DIR COI_HOME=$COI_HOME COI_CONFIG=$COI_CONFIG COI_LOG_LEVEL=debug"

# ---- a cold coi run fills the pool; coi shell claims its warm container ----
(cd "$ws" && "$COI" run -- true >/dev/null 2>&1)
t_ok "a coi run leaves a warm container behind it" wait_warm
w1=$(warm_names | head -1)
t_term "$env $COI shell 2>$tmp/shell1.err"
t_ok "coi shell shows the agent's first screen" t_wait_screen "dummy agent ready \(session "
t_like "coi shell claimed the warm container" "$(cat "$tmp/shell1.err")" "'$w1': claimed warm"
t_like "the agent runs in it, in tmux, the detach key on its status line" "$(t_screen)" \
    "coi: detach with Ctrl-b d \| $w1"
t_is "it is no longer marked warm" "$(incus config get "$w1" user.coi.warm)" ""
t_like "coi list shows it as a running session" "$("$COI" list)" "$w1 .*Running"
t_ok "a filler tops the pool up behind the shell while it runs" wait_warm "$w1"
w2=$(warm_names | head -1)
t_like "the agent is still there" "$(t_screen)" "dummy agent ready"

# ---- detached: the warm container beside it is nobody's session ----
$T send-keys -t t1 C-b d
t_ok "Ctrl-b d detaches, coi exits 0" t_wait_screen "COI-EXIT=0"
t_like "and says where the agent keeps running" "$(cat "$tmp/shell1.err")" "detached; the agent keeps running in $w1"
t_like "coi tmux capture without a name reads the detached agent's pane" \
    "$(cd "$ws" && "$COI" tmux capture 2>&1)" "dummy agent ready"

# ---- and so is a container its filler is still making, before its mark ----
# (a coi run claims the warm one; its filler, 10 s later as a session lives, makes the next; the
# workspace's lock held, it cannot mark it: before, a bare coi tmux capture or attach then said
# "several sessions", 1-3 s after each detach while the pool refilled)
(cd "$ws" && "$COI" run -- true >/dev/null 2>&1)
lockf=${prefix#coi-}
lockf=$COI_HOME/run/${lockf%-}.lock
making() { # a container other than $1 and $2 runs, none is marked, the filler's start is done
    local i
    for i in $(seq 600); do
        incus list "$prefix" -c ns -f csv | grep -v "^$1,\|^$2," | grep -q RUNNING &&
            [ -z "$(warm_names)" ] && [ ! -e "$lockf" ] && return 0
        sleep 0.05
    done
    return 1
}
t_ok "the filler's next container runs, not yet marked" making "$w1" "$w2"
flock "$lockf" sleep 8 &
lk=$!
sleep 1
t_is "(held by the lock, it is not marked)" "$(warm_names)" ""
t_like "a bare coi tmux capture still reads the detached agent's pane" \
    "$(cd "$ws" && "$COI" tmux capture 2>&1)" "dummy agent ready"
t_like "coi list shows the detached session and the one being made" "$("$COI" list)" "$w1 .*Running"
wait "$lk"
t_ok "then it is marked warm" wait_warm "$w1"
w2=$(warm_names | head -1)
t_term "$env $COI attach 2>$tmp/attach.err"
t_ok "a bare coi attach returns to the detached agent, not the warm container" \
    t_wait_screen "dummy agent ready \(session "
t_like "the agent's own screen" "$(t_screen)" "coi: detach with Ctrl-b d \| $w1"
t_is "the warm container is still warm" "$(warm_names)" "$w2"
$T send-keys -t t1 exit Enter
t_ok "the agent's exit ends the session" t_wait_screen "COI-EXIT="
t_like "through coi attach" "$(cat "$tmp/attach.err")" "session $w1 ended"
t_ok "its container is gone" t_wait_gone "$w1"
t_ok "what is left of the workspace is the next warm container alone" only_next_warm "$w1"
t_is "no rules of the ended session" "$(rules "$w1")" 0
t_is "no run file of it" "$(ls "$COI_HOME/run" | grep -c "^$w1\." || true)" 0

# ---- a shell that ends attached: coi shell itself ends the session ----
t_term "$env $COI shell 2>$tmp/shell2.err"
t_ok "a second coi shell shows the agent's first screen" t_wait_screen "dummy agent ready \(session "
t_like "it claimed the next warm container" "$(cat "$tmp/shell2.err")" "'$w2': claimed warm"
$T send-keys -t t1 exit Enter
t_ok "the agent exits, coi shell ends" t_wait_screen "COI-EXIT=0"
t_ok "its container is gone" t_wait_gone "$w2"
t_ok "what is left is the next warm container alone" only_next_warm "$w2"
t_is "no rules of the ended session" "$(rules "$w2")" 0
t_is "no run file of it" "$(ls "$COI_HOME/run" | grep -c "^$w2\." || true)" 0
(cd "$ws" && "$COI" clean --force >/dev/null 2>&1)
t_ok "coi clean removes the pool" t_wait_ws_clear "$ws"
if [ "$_t_failed" != 0 ]; then
    for f in "$tmp"/*.err; do t_diag "$(basename "$f"): $(grep -v 'debug: incus:\|^add \|^flush \|^delete \|^#\|errno' "$f" | tail -25)"; done
    t_diag "screen: $(t_screen)"
    t_diag "warm.log: $(grep -v 'debug: incus:\|^add \|^flush \|^$' "$COI_HOME/logs/warm.log" 2>/dev/null | tail -30)"
fi
t_done
