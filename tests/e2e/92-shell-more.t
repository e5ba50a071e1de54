#!/bin/bash
# SPDX-License-Identifier: MIT
# coi in a terminal, as a newcomer meets it (tmux on the host, the real image and its fake agent):
#  - inside the user's own tmux, coi's tmux takes Ctrl-a: Ctrl-a d detaches coi, the user's tmux
#    stays, and the status line says so;
#  - an agent that exits at once leaves its last screen, its status (passed on) and the reason,
#    and coi logs shows the screen after the container is gone;
#  - coi attach --slot, --bash; coi shell --container NAME; coi run -t;
#  - bulk verbs ask before acting on a terminal.
. "$(dirname "$0")/lib.sh"
t_require_daemon
incus image info coi-default >/dev/null 2>&1 || t_bail "coi-default missing (run: tests/e2e/setup)"
command -v tmux >/dev/null || t_bail "tmux is missing (apt-get install tmux)"

ws=$(mktemp -d /tmp/coi-t-shell2-XXXX)
export COI_HOME=$ws.home
cfg=$ws.toml
t_defer "rm -rf '$ws' '$COI_HOME' '$cfg'"
printf '[tool]\nname = "dummy"\n' >"$cfg"
export COI_CONFIG=$cfg
git -C "$ws" init -q
name=$(t_session_name "$ws" 1)
T="tmux -L coi-t-shell2-$$" # the "user's" tmux: a server of this run only
t_defer "$T kill-server; incus delete -f $name $(t_session_name "$ws" 2)"

env_line="INCUS_DIR=$INCUS_DIR INCUS_SOCKET=$INCUS_SOCKET COI_HOME=$COI_HOME COI_CONFIG=$cfg"
term() { # CMD in a fresh terminal of the user's tmux (TMUX set: coi runs inside tmux)
    $T kill-session -t t1 2>/dev/null
    $T new-session -d -s t1 -x 120 -y 30 "cd '$ws' && $env_line $*; echo COI-EXIT=\$?; sleep 120"
}

# ---- nested tmux ----
term "$COI shell"
t_ok "coi shell inside tmux: the agent's banner" t_wait_screen "dummy agent ready"
t_like "the status line shows coi's detach key, Ctrl-a d" "$(t_screen)" "coi: detach with Ctrl-a d"
$T send-keys -t t1 C-b d # the user's own prefix goes through to the agent, untouched
$T send-keys -t t1 C-u "still here" Enter # (and the line the agent got is wiped)
t_ok "Ctrl-b is not coi's: the agent gets what follows" t_wait_screen "dummy: still here"
$T send-keys -t t1 C-a d
t_ok "Ctrl-a d detaches coi's tmux" t_wait_screen "coi: detached; the agent keeps running in $name"
t_ok "the user's tmux session is still there" $T has-session -t t1
t_like "the session keeps running" "$("$COI" list 2>/dev/null)" "$name .*Running .*dummy"

# ---- attach --slot, --bash; tmux send/capture ----
term "$COI attach --slot 1"
t_ok "coi attach --slot 1 returns to the agent" t_wait_screen "dummy: still here"
$T send-keys -t t1 C-a d
t_ok "and detaches again" t_wait_screen "coi: detached from $name"
term "$COI attach"
t_ok "coi attach again" t_wait_screen "dummy: still here"
$T kill-session -t t1 # the terminal closes under it
sleep 1
t_like "a closed terminal detaches: the session runs on, not orphaned" \
    "$("$COI" list --json | jq -r ".active_containers[] | select(.name==\"$name\") | .status + \" \" + (.orphan|tostring)")" \
    "^Running false$"
term "$COI attach --bash"
t_ok "coi attach --bash: a shell" t_wait_screen "code@$name"
$T send-keys -t t1 'echo "in=$(pwd):$(id -un)"' Enter
t_ok "as code in the workspace" t_wait_screen "in=/workspace:code"
t_diag "$(t_screen)"
$T send-keys -t t1 "exit 3" Enter
t_ok "its status comes back, the session stays" t_wait_screen "COI-EXIT=3"
t_like "still running" "$("$COI" list 2>/dev/null)" "$name .*Running"
t_ok "coi tmux send types into the agent" "$COI" tmux send "$name" "from a script"
for _ in $(seq 50); do "$COI" tmux capture "$name" | grep -q "dummy: from a script" && break; sleep 0.1; done
t_like "coi tmux capture reads its pane" "$("$COI" tmux capture "$name")" "dummy: from a script"
t_like "coi tmux list lists it" "$("$COI" tmux list --json | jq -r '.[].container')" "$name"

# ---- coi shell --container NAME: the agent in that container as it is ----
term "$COI shell --container $name --debug"
$T send-keys -t t1 'echo "host=$(hostname)"' Enter
t_ok "coi shell --container attaches to the container's pane" t_wait_screen "host=$name|dummy"

# ---- bulk verbs ask on a terminal ----
term "$COI kill --all"
t_ok "coi kill --all lists what it would kill" t_wait_screen "$name"
t_ok "and asks" t_wait_screen "Kill these [0-9]+ session\(s\)\? \[y/N\]"
$T send-keys -t t1 n Enter
t_ok "no: nothing done, exit 1" t_wait_screen "cancelled, nothing done"$'\n'"COI-EXIT=1"
t_like "the session is still there" "$("$COI" list 2>/dev/null)" "$name .*Running"
t_ok "coi kill NAME (named: no question)" "$COI" kill "$name"

# ---- an agent that exits at once ----
printf '[tool]\nname = "dummy"\nbinary = "dummy-not-installed"\n' >"$cfg"
term "$COI shell"
t_ok "an agent that is not there: coi ends" t_wait_screen "COI-EXIT="
out=$(t_screen)
t_like "its status is passed on (127)" "$out" "COI-EXIT=127"
t_like "the reason in words" "$out" "the agent's command was not found in the container"
t_like "and its last screen" "$out" "\| .*dummy-not-installed.*not found"
t_ok "the container is gone" t_wait_gone "$name"
t_like "coi logs shows the screen after the container is gone" "$(cd "$ws" && "$COI" logs 2>&1)" \
    "last screen.*"$'\n'".*dummy-not-installed"
printf '[tool]\nname = "dummy"\nbinary = "false"\n' >"$cfg"
term "$COI shell"
t_ok "an agent that fails at once without a word" t_wait_screen "COI-EXIT=1"
t_like "its status (1) and why" "$(t_screen)" "the agent exited with status 1"
t_ok "the container is gone" t_wait_gone "$name"

# ---- coi run -t: the command gets a terminal ----
printf '[tool]\nname = "dummy"\n' >"$cfg"
term "$COI run -t -- sh -c 'tty; read x; echo got=\$x'"
t_ok "coi run -t: the command's stdin is a terminal" t_wait_screen "/dev/pts/"
$T send-keys -t t1 "typed" Enter
t_ok "and it reads what is typed" t_wait_screen "got=typed"
t_ok "its status" t_wait_screen "COI-EXIT=0"
t_done
