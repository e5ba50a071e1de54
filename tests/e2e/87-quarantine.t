#!/bin/bash
# SPDX-License-Identifier: MIT
# What the agent plants where the host's git would run it is neutralised at the end of the
# session (issue 17): git directories it makes, or puts in the place of the workspace's own by
# renaming what holds them (a submodule's working tree, the directory above a nested repository,
# a worktree's checkout), get every key that runs a program of the list (core.fsmonitor,
# hooksPath, pager, editor, sshCommand, askPass, worktree, diff.external, textconv,
# filter.*.clean/smudge, credential.helper, gpg.program, sequence.editor, packObjectsHook, an
# alias, include.path) and hooks. As code in a session of host root, and as container root in a
# session of an ordinary user. Afterwards the host runs git status, checkout, commit, an alias
# and git submodule update in each: nothing planted runs (each planted command would leave a
# canary file), the keys are gone, the hooks are in ~/.coi/quarantine with a REPORT, and the rest
# of each file is kept. A new .vscode/tasks.json in a nested folder goes too. Legitimate work
# inside still works and is left alone: a commit in a submodule, a submodule added, git init.
. "$(dirname "$0")/lib.sh"
t_require_daemon
incus image info coi-default >/dev/null 2>&1 || t_bail "coi-default missing (run: tests/e2e/setup)"

tmp=$(mktemp -d /tmp/coi-t-quar-XXXX)
chmod 755 "$tmp"
t_defer "chattr -R -i '$tmp' 2>/dev/null; rm -rf '$tmp'"
mkdir -m 777 "$tmp/canary" "$tmp/home"
export COI_HOME=$tmp/coi # the quarantine of this test only
. "$(dirname "$0")/gitdirs-lib.sh"

make_ws() { # DIR: the layout of gitdirs-lib.sh, and a folder of the project's own
    gitdirs_ws "$1" && mkdir -p pkg && echo keep >pkg/readme
}

# The agent's script (busybox sh): WS is the workspace's host path, C the canary directory.
plant_script() {
    cat <<'EOF_PLANT'
mkgit() { # DIR TAG: a git directory with every key of the list and hooks
    d=$1; t=$2
    mkdir -p "$d/objects" "$d/refs/heads" "$d/hooks" || return 1
    echo 'ref: refs/heads/main' > "$d/HEAD"
    cat > "$d/config" <<EOF
[core]
	repositoryformatversion = 0
	bare = false
	fsmonitor = touch $C/$t-fsmonitor
	hooksPath = $WS/.evil-hooks
	pager = touch $C/$t-pager
	editor = touch $C/$t-editor
	sshCommand = touch $C/$t-ssh
	askPass = touch $C/$t-askpass
	worktree = $WS/.git/hooks
[diff]
	external = touch $C/$t-diff
[diff "x"]
	textconv = touch $C/$t-textconv
[filter "x"]
	clean = touch $C/$t-clean
	smudge = touch $C/$t-smudge
	process = touch $C/$t-process
[credential]
	helper = !touch $C/$t-cred
[gpg]
	program = touch $C/$t-gpg
[commit]
	gpgSign = true
[sequence]
	editor = touch $C/$t-seq
[uploadpack]
	packObjectsHook = touch $C/$t-pack
[alias]
	st = !touch $C/$t-alias
[include]
	path = $WS/.evil-include
[user]
	name = Kept Name
EOF
    for h in pre-commit post-checkout post-commit commit-msg post-merge pre-push; do
        printf '#!/bin/sh\ntouch %s/%s-hook-%s\n' "$C" "$t" "$h" > "$d/hooks/$h"
        chmod 755 "$d/hooks/$h"
    done
}
set -e
mkdir -p .evil-hooks
printf '#!/bin/sh\ntouch %s/hookspath\n' "$C" > .evil-hooks/pre-commit && chmod 755 .evil-hooks/pre-commit
printf '[core]\n\tfsmonitor = touch %s/included\n' "$C" > .evil-include
# the submodule: its working tree renamed (the .git file in it, read-only, goes along), a new one
mkgit .evil-a a && mv lib/a lib/a-moved && mkdir -p lib/a && echo 'gitdir: ../../.evil-a' > lib/a/.git
# the nested submodule, inside it
mkgit .evil-b b && mkdir -p lib/a/b && echo 'gitdir: ../../../.evil-b' > lib/a/b/.git
# the nested repository: the directory above it renamed, a new one in its place
mv vendor vendor-moved && mkgit vendor/x/.git x
# the worktree: its checkout renamed, a worktree git directory of the agent's own
mkgit .evil-common wt && mkdir -p .evil-wt && echo 'ref: refs/heads/main' > .evil-wt/HEAD
echo ../.evil-common > .evil-wt/commondir
printf '[core]\n\tfsmonitor = touch %s/wt-worktree-fsmonitor\n' "$C" > .evil-wt/config.worktree
mv wt wt-moved && mkdir wt && echo 'gitdir: ../.evil-wt' > wt/.git
# a repository of its own
mkgit newrepo/.git new
# an editor's task in a nested folder
mkdir -p pkg/.vscode && echo '{"tasks":[{"command":"touch '"$C"'/vscode"}]}' > pkg/.vscode/tasks.json
echo planted
EOF_PLANT
}

# The host afterwards, as the user whose workspace it is: git in every repository of the layout.
host_git() { # WS
    local ws=$1 r
    # the user's git, with no configuration of its own; an editor that fails (a planted
    # core.editor would win over it)
    export HOME=${HOST_HOME:-$tmp/home} GIT_CONFIG_NOSYSTEM=1 EDITOR=false VISUAL=false TERM=dumb
    unset GIT_EDITOR GIT_PAGER PAGER
    for r in . lib/a lib/a/b vendor/x wt newrepo; do
        (cd "$ws/$r" 2>/dev/null || exit 0
            git status
            git diff
            git checkout -q -B coi-t-check
            git commit --allow-empty
            git st
            git log -1) </dev/null >/dev/null 2>&1
    done
    (cd "$ws" && git submodule update --init --recursive) </dev/null >/dev/null 2>&1
    true
}
program_keys='^(core\.(fsmonitor|hookspath|sshcommand|pager|editor|askpass|worktree)|diff\.external|.*\.textconv|filter\..*\.(clean|smudge|process)|credential\.helper|gpg\.program|sequence\.editor|uploadpack\.packobjectshook|alias\..*|include\.path)$'

check_after() { # LABEL WS ERRFILE
    local label=$1 ws=$2 err=$3 g
    t_is "$label: nothing planted ran on the host" "$(ls "$tmp/canary" | tr '\n' ' ')" ""
    for g in .evil-a .evil-b vendor/x/.git .evil-common newrepo/.git; do
        t_is "$label: $g: no key that runs a program is left" \
            "$(git config --file "$ws/$g/config" --name-only --list 2>/dev/null | grep -cE "$program_keys")" 0
        t_is "$label: $g: the rest is kept" "$(git config --file "$ws/$g/config" user.name 2>/dev/null)" "Kept Name"
        t_is "$label: $g: no planted hook is left" "$(ls "$ws/$g/hooks" 2>/dev/null | grep -vc '\.sample$')" 0
    done
    t_is "$label: the worktree's config.worktree lost its key" \
        "$(git config --file "$ws/.evil-wt/config.worktree" --name-only --list 2>/dev/null | grep -cE "$program_keys")" 0
    t_fails "$label: the nested tasks.json is gone" test -e "$ws/pkg/.vscode/tasks.json"
    t_ok "$label: the nested folder's own file is kept" test -e "$ws/pkg/readme"
    t_like "$label: coi says what it did and where" "$(cat "$err")" "neutralised \(moved to .*/quarantine/[0-9-]+coi-[0-9a-f]+-1; its REPORT says how to put each back\)"
}

# --- as code, in a session of host root (the real image: git inside for legitimate work) -------
make_ws "$tmp/r" >/dev/null 2>&1 || t_bail "cannot make the test repositories"
ws=$tmp/r/ws
name=$(t_session_name "$ws" 1)
t_defer "incus delete -f '$name'"
plant_script >"$ws/.plant.sh"
printf '[network]\nmode = "open"\n' >"$tmp/open.toml" && chmod 644 "$tmp/open.toml"
(cd "$ws" && COI_CONFIG="$tmp/open.toml" exec "$COI" run --image coi-default -- sleep 300 >/dev/null 2>"$tmp/r.err") &
pid=$!
t_defer "kill $pid 2>/dev/null"
t_ok "root host: a session comes up" t_wait_running "$name"
t_ok "root host: its command runs" t_wait_cmd "$name" sleep
X() { incus exec "$name" --cwd /workspace --user 1000 --group 1000 --env HOME=/home/code -- sh -c "$1" </dev/null 2>&1; }
GI="git -c user.email=c@e.x -c user.name=code -c protocol.file.allow=always"
t_is "inside: a commit in the submodule" "$(X "cd lib/a && $GI checkout -q -b coi-work && $GI commit -q --allow-empty -m inside && echo ok")" ok
t_like "inside: a submodule added" "$(X "$GI init -q src2 && $GI -C src2 commit -q --allow-empty -m s && $GI submodule -q add /workspace/src2 sub2 2>/dev/null; test -e sub2/.git && echo ok")" ok
t_is "inside: git init of a new repository" "$(X "$GI init -q fresh && $GI -C fresh commit -q --allow-empty -m f && echo ok")" ok
t_is "as code: the agent plants" "$(X "WS='$ws' C='$tmp/canary' sh .plant.sh" | tail -1)" planted
kill -TERM "$pid"
wait "$pid" 2>/dev/null
t_ok "root host: the session ends" t_wait_gone "$name"
host_git "$ws"
check_after "as code" "$ws" "$tmp/r.err"
report=$(ls "$COI_HOME"/quarantine/*-"$name"/REPORT 2>/dev/null | tail -1)
t_ok "the quarantine has a REPORT" test -s "$report"
t_like "it says how to put a hook back" "$(cat "$report" 2>/dev/null)" "to put it back: install -m 755 '.*/files/[0-9]+-pre-commit' '$ws/newrepo/\.git/hooks/pre-commit'"
t_like "and how to put a config back" "$(cat "$report" 2>/dev/null)" "to put it back: cp '.*/files/[0-9]+-config' '$ws/\.evil-a/config'"
t_is "the submodule's commit is on the host" "$(git --git-dir="$ws/.git/modules/lib/a" log -1 --format=%s coi-work 2>/dev/null)" inside
t_ok "the added submodule works on the host" git -C "$ws/sub2" status --short
t_ok "the new repository works on the host" git -C "$ws/fresh" log -1
t_is "legitimate work is not in the quarantine" "$(grep -cE "sub2|fresh|lib/a-moved" "$tmp/r.err")" 0
t_is "nothing else was taken: the moved checkouts are intact" \
    "$(ls "$ws/lib/a-moved/.git" "$ws/vendor-moved/x/.git/config" "$ws/wt-moved/.git" 2>/dev/null | wc -l)" 3

# --- as container root, then as code, in a session of an ordinary host user -------------------
# Container root cannot create anything in the workspace (the idmapped mount maps the owner's ids
# only): its plant fails at the first mkdir. Root can act as code, though, so code plants then.
make_ws "$tmp/u" >/dev/null 2>&1 || t_bail "cannot make the test repositories"
ws=$tmp/u/ws
plant_script >"$ws/.plant.sh"
chown -R 1234:1234 "$tmp/u"
name=$(t_session_name "$ws" 1)
t_defer "incus delete -f '$name'"
(cd "$ws" && t_as_user env COI_CONFIG="$tmp/open.toml" "$COI" run --image "$T_IMAGE" -- sleep 300 >/dev/null 2>"$tmp/u.err") &
pid=$!
t_defer "kill $pid 2>/dev/null"
t_ok "user host: a session comes up" t_wait_running "$name"
t_ok "user host: its command runs" t_wait_cmd "$name" sleep
t_unlike() { t_fails "$1" grep -q "$3" <<<"$2"; }
t_unlike "as root: the plant does not get far" \
    "$(incus exec "$name" --cwd /workspace -- sh -c "WS='$ws' C='$tmp/canary' sh .plant.sh" </dev/null 2>&1 | tail -1)" planted
t_is "as code: the agent plants" "$(incus exec "$name" --cwd /workspace --user 1000 --group 1000 -- sh -c "WS='$ws' C='$tmp/canary' sh .plant.sh" </dev/null 2>&1 | tail -1)" planted
kill -TERM "$pid"
wait "$pid" 2>/dev/null
t_ok "user host: the session ends" t_wait_gone "$name"
(cd "$ws" && setpriv --reuid 1234 --regid 1234 --clear-groups env HOST_HOME=/tmp/coi-t-home-1234 \
    bash -c "$(declare -f host_git); host_git '$ws'")
check_after "user host" "$ws" "$tmp/u.err"
t_ok "the quarantine is the user's" test -s "$(ls /tmp/coi-t-home-1234/.coi/quarantine/*-"$name"/REPORT 2>/dev/null | tail -1)"
t_done
