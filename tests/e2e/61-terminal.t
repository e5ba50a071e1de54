#!/bin/bash
# SPDX-License-Identifier: MIT
# coi in a terminal, as a user sees it (tmux): completing a container name, coi list coloured on the
# terminal, plain with NO_COLOR, cut to a narrow terminal, whole and plain through a pipe.
# Screens are kept in $COI_T_SCREENS (default build/screens/).
. "$(dirname "$0")/lib.sh"
t_require_daemon
command -v tmux >/dev/null || t_bail "tmux is missing (apt-get install tmux)"
screens=${COI_T_SCREENS:-$T_ROOT/build/screens}
mkdir -p "$screens"

ws=$(mktemp -d /tmp/coi-t-ux-XXXX)
t_defer "rm -rf '$ws'"
git -C "$ws" init -q
name=$(t_session_name "$ws" 1)
(cd "$ws" && exec "$COI" run --image "$T_IMAGE" -- sleep 120) >/dev/null 2>&1 &
pid=$!
t_defer "kill $pid 2>/dev/null; incus delete -f $name"
t_ok "a session comes up" t_wait_running "$name"

sock=coi-t-ux-$$
tm() { tmux -L "$sock" "$@"; }
t_defer "tmux -L $sock kill-server"
tm new-session -d -s ux -x 150 -y 30 \
    "env -i HOME=$HOME TERM=xterm-256color PATH=$COI_BUILD:/usr/bin:/bin INCUS_SOCKET=$INCUS_SOCKET PS1='\\#\\$ ' bash --norc --noprofile"
pane() { tm capture-pane -p "$@" -t ux | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}'; }
wait_for() { # REGEX [capture options]: bounded wait until the pane shows it
    local re=$1 i
    shift
    for i in $(seq 50); do [[ "$(pane "$@")" =~ $re ]] && return 0; sleep 0.1; done
    return 1
}
t_ok "a shell in tmux" wait_for '^1[#$] ?$'
# The prompt is the command number ("3# "), so the end of each command is the next number.
type_cmd() { # CMD: clear the screen, type CMD and wait (bounded) for the next prompt
    local next=$(($(pane | tail -1 | grep -o '^[0-9]*') + 1))
    tm send-keys -t ux C-u C-l "$1" Enter
    wait_for "(^|"$'\n'")$next[#\$] ?\$"
}
type_cmd 'source <(coi completion bash); cd /tmp'
tm send-keys -t ux C-l "coi kill ${name:0:10}" Tab
t_ok "coi kill <prefix><Tab> completes the container name" wait_for "coi kill $name\$"
pane > "$screens/host-complete-name.txt"
t_ok "coi list on the terminal" type_cmd 'coi list' 
t_like "STATUS is green on a terminal" "$(pane -e)" $'\e\\[32mRunning'
pane > "$screens/host-list.txt"
pane -e | cat -v > "$screens/host-list-escapes.txt"
t_ok "NO_COLOR=1 coi list" type_cmd 'NO_COLOR=1 coi list' 
out=$(pane -e)
t_like "the row is there" "$out" "$name .*Running"
t_fails "with no colour" grep -q $'\e\\[32m' <<<"$out"
pane > "$screens/host-no-color.txt"
pane -e | cat -v > "$screens/host-no-color-escapes.txt"
t_ok "coi list | cat" type_cmd 'coi list | cat' 
out=$(pane -e)
t_fails "a pipe gets no colour" grep -q $'\e\\[3' <<<"$out"
t_like "and every column whole" "$out" "$name +$ws +1 +ephemeral +Running"
pane > "$screens/host-list-pipe.txt"
# 10 columns narrower than the table: the workspace column gives them up
full=0
while IFS= read -r line; do [ "${#line}" -le "$full" ] || full=${#line}; done <<<"$out"
width=$((full - 10))
tm resize-window -t ux -x "$width"
t_ok "coi list on a $width-column terminal" type_cmd 'coi list' 
out=$(pane)
t_like "cuts the widest column with an ellipsis" "$out" "$name +[^ ]*… +1 +ephemeral"
long=0
while IFS= read -r line; do [ "${#line}" -le "$width" ] || long=1; done <<<"$out"
t_is "and fits in $width columns" "$long" 0
pane > "$screens/host-list-narrow.txt"
t_ok "a pipe from a narrow terminal" type_cmd 'coi list | cat' 
t_like "still gets the whole workspace" "$(pane)" "$ws"
# zsh, with compinit, completes through the same engine.
if command -v zsh >/dev/null; then
    tm kill-session -t ux
    tm new-session -d -s ux -x 100 -y 20 \
        "env -i HOME=$ws TERM=xterm-256color PATH=$COI_BUILD:/usr/bin:/bin INCUS_SOCKET=$INCUS_SOCKET zsh -f"
    t_ok "a zsh in tmux" wait_for '[#%] ?$'
    tm send-keys -t ux "autoload -Uz compinit && compinit -u -d $ws/.zcompdump && source <(coi completion zsh)" Enter
    tm send-keys -t ux C-l "coi kill ${name:0:10}" Tab
    t_ok "zsh: coi kill <prefix><Tab> completes the container name" wait_for "coi kill $name"
    tm send-keys -t ux C-u 'coi image list --format ' Tab
    t_ok "zsh: --format <Tab> offers the choices" wait_for 'table +json|json +table'
    pane > "$screens/host-zsh.txt"
else
    echo "ok $((_t_n += 1)) - # SKIP zsh not installed"
fi
t_done
