#!/bin/bash
# SPDX-License-Identifier: MIT
# Every git directory of the workspace is out of the agent's reach during a session, not only the
# top one (issue 17): a submodule's, a nested submodule's, a nested repository's, a worktree's.
# Attacked from inside as code and as container root, in a session of host root (immutable flags
# too) and of an ordinary host user: their hooks, config, info/attributes, config.worktree,
# commondir and .git files cannot be written, and no directory that holds one can be renamed away
# (mv .git/info .git/x && mkdir .git/info was the way around the old protection). The startup
# line names them. Afterwards the workspace is exactly what it was: the placeholders coi made
# (empty info/attributes, config.worktree, .git/hooks) are gone again, on every way out: the end
# of coi run, coi kill, and coi clean --orphans after coi was killed (issue 19's leftovers).
. "$(dirname "$0")/lib.sh"
t_require_daemon
export COI_CONFIG=/dev/null

tmp=$(mktemp -d /tmp/coi-t-gitdirs-XXXX)
chmod 755 "$tmp" # the ordinary host user works in a directory below it
t_defer "chattr -R -i '$tmp' 2>/dev/null; rm -rf '$tmp'"
. "$(dirname "$0")/gitdirs-lib.sh"

# WS: the layout of gitdirs-lib.sh, each git directory with a hook of its own
make_ws() {
    gitdirs_ws "$1" || return 1
    for g in .git .git/modules/lib/a .git/modules/lib/a/modules/b vendor/x/.git; do
        printf '#!/bin/sh\necho original\n' >"$g/hooks/pre-commit" && chmod 755 "$g/hooks/pre-commit"
    done
}
# what the host has: every path, its type, mode, size and content
tree() { (cd "$1" && find . -printf '%p %y %m %s\n' | sort && find . -type f -print0 | sort -z | xargs -0 sha256sum); }

attacks() { # WHO NAME: each must fail
    local who=$1 name=$2 desc script out
    while IFS='|' read -r desc script; do
        if [ "$who" = root ]; then
            out=$(incus exec "$name" --cwd /workspace -- sh -c "($script) 2>/dev/null && echo opened || echo blocked" </dev/null)
        else
            out=$(incus exec "$name" --cwd /workspace --user 1000 --group 1000 -- sh -c "($script) 2>/dev/null && echo opened || echo blocked" </dev/null)
        fi
        t_is "$3 $who: $desc fails" "$out" blocked
    done <<'EOF_ATTACKS'
a submodule's hook|echo evil > .git/modules/lib/a/hooks/post-checkout
a submodule's config|printf '[core]\n\tfsmonitor = evil\n' >> .git/modules/lib/a/config
a nested submodule's hook|echo evil > .git/modules/lib/a/modules/b/hooks/pre-commit
a nested submodule's config|echo '[core] pager = evil' >> .git/modules/lib/a/modules/b/config
a nested repository's hook|echo evil > vendor/x/.git/hooks/post-checkout
a nested repository's config|echo '[alias] st = !evil' >> vendor/x/.git/config
a nested repository's info/attributes|echo '* filter=x' > vendor/x/.git/info/attributes
the worktree's config.worktree|echo '[core] editor = evil' >> .git/worktrees/wt/config.worktree
the worktree's commondir|echo /tmp > .git/worktrees/wt/commondir
the submodule's .git file|echo 'gitdir: ../../evil' > lib/a/.git
the worktree's .git file|echo 'gitdir: ../evil' > wt/.git
rename .git/info away, a new attributes|mv .git/info .git/info-x && mkdir .git/info && echo '* diff=x' > .git/info/attributes
rename a submodule's info away|mv .git/modules/lib/a/info .git/modules/lib/a/info-x
rename .git/modules away|mv .git/modules .git/modules-x
rename the directory above a submodule's git directory|mv .git/modules/lib .git/modules/lib-x
rename a submodule's git directory|mv .git/modules/lib/a .git/modules/lib/a-x
rename a nested submodule's git directory|mv .git/modules/lib/a/modules .git/modules/lib/a/modules-x
rename the nested repository's .git|mv vendor/x/.git vendor/x/.git-x
rename .git/worktrees away|mv .git/worktrees .git/worktrees-x
EOF_ATTACKS
}

# --- a session of host root: mounts and immutable flags --------------------------------------
make_ws "$tmp/r" >/dev/null 2>&1 || t_bail "cannot make the test repositories"
rm -rf "$tmp/r/ws/.git/hooks" # no hooks directory at all: coi makes one, and takes it away
before=$(tree "$tmp/r/ws")
name=$(t_session_name "$tmp/r/ws" 1)
t_defer "incus delete -f '$name'"
(cd "$tmp/r/ws" && exec "$COI" run --image "$T_IMAGE" -- sleep 120 >/dev/null 2>"$tmp/r.err") &
pid=$!
t_defer "kill $pid 2>/dev/null"
t_ok "root: a session comes up" t_wait_running "$name"
t_ok "root: its command runs" t_wait_cmd "$name" sleep
attacks code "$name" root:
attacks root "$name" root:
t_is "root: a nested repository's hook is immutable on the host" \
    "$(lsattr "$tmp/r/ws/vendor/x/.git/hooks/pre-commit" | cut -c5)" i
kill -TERM "$pid"
wait "$pid" 2>/dev/null
t_ok "root: the session ends" t_wait_gone "$name"
t_like "the startup line names the other git directories" "$(cat "$tmp/r.err")" \
    "Git directories with the same paths read-only: \.git/modules/lib/a, \.git/modules/lib/a/modules/b, \.git/worktrees/wt, vendor/x/\.git"
t_is "root: afterwards the workspace is exactly what it was (no placeholder left)" "$(tree "$tmp/r/ws")" "$before"
t_fails "root: no .git/hooks left where there was none" test -e "$tmp/r/ws/.git/hooks"
t_is "root: no immutable flag left" "$(lsattr -R "$tmp/r/ws" 2>/dev/null | grep -c -- '^----i')" 0

# --- a session of an ordinary host user: the mounts alone ---------------------------------------
make_ws "$tmp/u" >/dev/null 2>&1 || t_bail "cannot make the test repositories"
chown -R 1234:1234 "$tmp/u"
before=$(tree "$tmp/u/ws")
name=$(t_session_name "$tmp/u/ws" 1)
t_defer "incus delete -f '$name'"
# (no sudo nft for this user: the network is not what this test is about)
printf '[network]\nmode = "open"\n' >"$tmp/open.toml" && chmod 644 "$tmp/open.toml"
(cd "$tmp/u/ws" && t_as_user env COI_CONFIG="$tmp/open.toml" "$COI" run --image "$T_IMAGE" -- sleep 120 >/dev/null 2>&1) &
pid=$!
t_defer "kill $pid 2>/dev/null"
t_ok "user: a session comes up" t_wait_running "$name"
t_ok "user: its command runs" t_wait_cmd "$name" sleep
attacks code "$name" user:
attacks root "$name" user:
kill -TERM "$pid"
wait "$pid" 2>/dev/null
t_ok "user: the session ends" t_wait_gone "$name"
t_is "user: afterwards the workspace is exactly what it was" "$(tree "$tmp/u/ws")" "$before"

# --- leftovers on the other ways out -----------------------------------------------------------
ws=$tmp/r/ws
before=$(tree "$ws")
name=$(t_session_name "$ws" 1)
(cd "$ws" && exec "$COI" run --image "$T_IMAGE" -- sleep 120 >/dev/null 2>&1) &
pid=$!
t_ok "a session to kill comes up" t_wait_running "$name"
t_ok "placeholders are there while it runs" test -e "$ws/.git/modules/lib/a/config.worktree"
t_ok "coi kill" "$COI" kill "$name"
wait "$pid" 2>/dev/null
t_is "after coi kill: the workspace is what it was" "$(tree "$ws")" "$before"

(cd "$ws" && exec "$COI" run --image "$T_IMAGE" -- sleep 120 >/dev/null 2>&1) &
pid=$!
t_ok "a session whose coi is killed comes up" t_wait_running "$name"
t_ok "its command runs" t_wait_cmd "$name" sleep
kill -KILL "$pid"
wait "$pid" 2>/dev/null
t_ok "coi clean --orphans" "$COI" clean --orphans
t_ok "the container is gone" t_wait_gone "$name"
t_is "after kill -9 and coi clean --orphans: the workspace is what it was" "$(tree "$ws")" "$before"
t_is "and no immutable flag is left" "$(lsattr -R "$ws" 2>/dev/null | grep -c -- '^----i')" 0
t_done
