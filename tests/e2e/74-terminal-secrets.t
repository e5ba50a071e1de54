#!/bin/bash
# SPDX-License-Identifier: MIT
# Secrets and the terminal (issue 16, item 7). `coi -vv` printed the websocket secrets of exec
# (whoever has one can attach to the command), and coi printed names it did not choose raw: a
# workspace directory whose name holds escape sequences reached the user's terminal through
# coi list (it could retitle the window, clear the screen, or hide text), and so did a key of an
# unapproved project file through a warning, and a command line run inside the container through
# the monitor's snapshot. Now -vv shows secret=REDACTED, and every such name is printed with its
# control characters made visible (\x1B ...), as code and as root inside; plain names are
# unchanged (the paired probes).
. "$(dirname "$0")/lib.sh"
t_require_daemon

tmp=$(mktemp -d /tmp/coi-t-term-XXXX)
export COI_HOME=$tmp/home
t_defer "rm -rf '$tmp'"
evil=$(printf 'w\033]0;pwned\007\033[2Jx')
ws=$tmp/$evil
plain=$tmp/plain
mkdir -p "$ws" "$plain"
git -C "$ws" init -q && git -C "$plain" init -q
name=$(t_session_name "$ws" 1)
pname=$(t_session_name "$plain" 1)
t_defer "incus delete -f '$name' '$pname'"
has_control() { LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]' <<<"$1"; }

# ---- -vv: no secrets ----
err=$(cd "$plain" && "$COI" -vv run --image "$T_IMAGE" -- true 2>&1 >/dev/null)
t_like "-vv shows the exec websocket, its secret redacted" "$err" "websocket\?secret=REDACTED"
t_fails "and no secret value anywhere" grep -Eq 'secret=[0-9a-fA-F]{16}' <<<"$err"
t_wait_ws_clear "$plain"

# ---- coi list: a workspace named with escape sequences ----
(cd "$ws" && exec "$COI" run --image "$T_IMAGE" -- sleep 60 >/dev/null 2>&1) &
p1=$!
(cd "$plain" && exec "$COI" run --image "$T_IMAGE" -- sleep 60 >/dev/null 2>&1) &
p2=$!
t_defer "kill $p1 $p2 2>/dev/null"
t_ok "the sessions start" t_wait_cmd "$name" sleep
t_wait_cmd "$pname" sleep
out=$("$COI" list 2>&1)
t_fails "coi list: no control character reaches the terminal" has_control "$out"
t_like "the workspace is shown with its escapes visible" "$out" 'w\\x1B\]0;pwned\\x07\\x1B\[2Jx'
t_like "the twin: a plain workspace is shown as it is" "$out" "$plain "

# ---- the monitor's snapshot: a command line from inside, as code and as root ----
# run_named WHO: a script whose name holds escape sequences, started in the background
run_named() {
    local p="/tmp/$1\$(printf '\\033]0;pwned\\007\\033[2J')"
    local user=()
    [ "$1" = code ] && user=(--user 1000 --group 1000)
    incus exec "$name" "${user[@]}" -- sh -c "printf '#!/bin/sh\\nsleep 50\\n' >\"$p\"; chmod 755 \"$p\"
        \"$p\" </dev/null >/dev/null 2>&1 &" </dev/null >/dev/null 2>&1
}
run_named code
run_named root
sleep 0.5
out=$("$COI" monitor "$name" 2>&1)
t_fails "coi monitor: no control character from a command line inside" has_control "$out"
t_like "code's process is listed, escaped" "$out" '1000  /bin/sh /tmp/code\\x1B\]0;pwned\\x07'
t_like "root's too" "$out" '0  /bin/sh /tmp/root\\x1B\]0;pwned\\x07'
t_like "the twin: a plain command line as it is" "$out" "sleep 60"
kill "$p1" "$p2" 2>/dev/null
wait "$p1" "$p2" 2>/dev/null

# ---- a warning naming a project file's key ----
mkdir -p "$plain/.coi"
printf '"k\\u001b]0;pwned\\u0007" = 1\n' >"$plain/.coi/config.toml"
out=$(cd "$plain" && "$COI" config show 2>&1 >/dev/null)
t_like "a project file's unknown key is warned about" "$out" "unknown key"
t_fails "with its escapes made visible" has_control "$out"
t_like "shown as text" "$out" "k\\\\x1B\]0;pwned\\\\x07"
t_wait_ws_clear "$ws"
t_wait_ws_clear "$plain"

t_done
