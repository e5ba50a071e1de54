#!/bin/bash
# SPDX-License-Identifier: MIT
# Exec over websockets against the real daemon: stdin streamed in (binary, megabytes), stdout
# streamed out, a signal forwarded (SIGINT -> 130), and an interactive pty in a real terminal
# (tmux): raw mode, window size, resize forwarded, the remote exit status returned, the local
# terminal restored.
. "$(dirname "$0")/lib.sh"
t_require_daemon

c=$(t_name incus-tty)
t_defer "incus delete -f $c"
t_ok "launch" t_launch "$c"
tmp=$(mktemp -d)
t_defer "rm -rf $tmp"

t_is "stdin streams in" "$(printf 'abc' | "$COI" container exec "$c" -- cat)" "abc"
head -c 3000000 /dev/urandom >"$tmp/big"
t_is "3 MB of binary stdin arrive intact" "$("$COI" container exec "$c" -- sha256sum <"$tmp/big" | cut -d' ' -f1)" "$(sha256sum <"$tmp/big" | cut -d' ' -f1)"
t_is "5 MB of stdout arrive intact" "$("$COI" container exec "$c" -- head -c 5000000 /dev/zero | wc -c)" 5000000
t_is "an empty stdin is an immediate EOF" "$("$COI" container exec "$c" -- wc -c </dev/null)" 0

"$COI" container exec "$c" -- sleep 30 &
pid=$!
sleep 1
kill -INT "$pid"
rc=0; wait "$pid" || rc=$?
t_is "SIGINT is forwarded: the remote command dies of it (130)" "$rc" 130

s=coi-t-incus-$$
t_defer "tmux kill-session -t $s"
tmux new-session -d -s "$s" -x 100 -y 30 "$COI container exec $c -t -- sh; echo EXIT=\$?; sleep 60"
pane_tty=$(tmux display -p -t "$s" '#{pane_tty}')
sleep 1
tmux send-keys -t "$s" 'stty size; tty' Enter
sleep 0.5
t_like "interactive: a pty of the terminal's size" "$(tmux capture-pane -p -t "$s")" $'30 100\n/dev/pts/[0-9]+'
t_like "the local terminal is in raw mode meanwhile" "$(stty -a -F "$pane_tty")" '-icanon'
tmux resize-window -t "$s" -x 120 -y 40
sleep 0.5
tmux send-keys -t "$s" 'clear; stty size' Enter
sleep 0.5
t_like "a resize is forwarded" "$(tmux capture-pane -p -t "$s")" '40 120'
tmux send-keys -t "$s" 'exit 7' Enter
sleep 1
t_like "the remote exit status comes back" "$(tmux capture-pane -p -t "$s")" 'EXIT=7'
t_like "the local terminal is restored" "$(stty -a -F "$pane_tty")" ' icanon .* echo '

t_done
