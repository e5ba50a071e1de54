#!/bin/bash
# SPDX-License-Identifier: MIT
# The [git] keys, in a real session (the coi-default image: git inside). protected_branches: the
# agent, as code and as container root, cannot move, delete or rename the host repository's
# protected branches by any route (commit, update-ref, reset, branch -f/-D, the ref file, the
# refs directories, packed-refs); a branch only in packed-refs too; work on a branch of its own
# goes on, and the agent's context says which branches are protected. Afterwards the host's refs
# are what they were. name, email, seed_host_identity: commits inside are by the configured
# identity, what it leaves unset is the host user's (from ~/.gitconfig), and nothing of the
# host's without seed_host_identity. strip_attribution(_patterns): a commit made inside loses the
# trailers that match, keeps the rest, and the project's own hooks still run. readonly: the git
# directory cannot be written at all.
# Keys whose effect this file shows (src/config/keys.c names it as their proof):
# git.protected_branches, git.name, git.email, git.seed_host_identity, git.readonly,
# git.strip_attribution, git.strip_attribution_patterns.
. "$(dirname "$0")/lib.sh"
t_require_daemon
incus image info coi-default >/dev/null 2>&1 || t_bail "coi-default missing (run: tests/e2e/setup)"
T_IMAGE=coi-default
# as code, with the home the agent has (incus exec alone gives none)
t_in_as() {
    if [ "$1" = root ]; then
        incus exec "$name" --cwd /workspace -- sh -c "exec 2>/dev/null; $2" </dev/null
    else
        incus exec "$name" --cwd /workspace --user 1000 --group 1000 --env HOME=/home/code \
            -- sh -c "exec 2>/dev/null; $2" </dev/null
    fi
}

tmp=$(mktemp -d /tmp/coi-t-gitkeys-XXXX)
chmod 755 "$tmp"
t_defer "chattr -R -i '$tmp' 2>/dev/null; rm -rf '$tmp'"
G="git -c user.email=t@e.x -c user.name=t"
# the host user's own identity, to be seeded
mkdir -p "$tmp/home/.coi"
printf '[user]\n\tname = Host Person\n\temail = host@e.x\n' >"$tmp/home/.gitconfig"
export HOME=$tmp/home COI_HOME=$tmp/home/.coi

# --- protected_branches (the default: main, master), name/email/seed -------------------------
ws=$tmp/ws
mkdir -p "$ws" && cd "$ws" || t_bail "no workspace"
$G init -q -b main . && $G commit -q --allow-empty -m one && $G branch master &&
    $G pack-refs --all && $G commit -q --allow-empty -m two || t_bail "cannot make the repository"
main0=$(git rev-parse main) master0=$(git rev-parse master)
# the project's own hook, which must still run inside (core.hooksPath is coi's there)
printf '#!/bin/sh\ntouch hook-ran\n' >.git/hooks/pre-commit && chmod 755 .git/hooks/pre-commit
t_bg_session root "$ws" '[git]\nemail = "set@e.x"\nstrip_attribution_patterns = ["^co-authored-by:.*claude", "^x-agent:"]\n'
t_ok "a session comes up" t_bg_up
GI="git -c core.pager=cat"
t_is "the identity inside: the host's name, the configured email" \
    "$(t_in_as code "$GI config user.name; $GI config user.email")" "Host Person
set@e.x"
t_like "the agent's context names the protected branches" \
    "$(t_in_as code 'cat ~/SANDBOX_CONTEXT.md')" "Protected branches .*: main, master\."
refs() { t_in_as code 'git rev-parse main master' | tr '\n' ' '; }
while IFS='|' read -r who desc script; do
    t_in_as "$who" "$script" >/dev/null
    t_is "as $who: $desc leaves main and master where they were" "$(refs)" "$main0 $master0 "
done <<'EOF_ATTACKS'
code|a commit on main|git commit -q --allow-empty -m evil
code|git update-ref main|git update-ref refs/heads/main HEAD~1
code|git reset --hard HEAD~1 on main|git checkout -q main && git reset -q --hard HEAD~1
code|git branch -f master|git branch -f master main
code|git branch -D master|git checkout -q -b side && git branch -D master
code|git branch -m main|git branch -m main evil
root|writing the ref file|echo 0000000000000000000000000000000000000000 > .git/refs/heads/main
root|removing the ref file|rm -f .git/refs/heads/master
root|renaming refs/heads away|mv .git/refs/heads .git/refs/h
root|renaming refs away|mv .git/refs .git/r
root|a commit on main as root|git -c safe.directory='*' -c user.name=r -c user.email=r@e commit -q --allow-empty -m root
EOF_ATTACKS
# packed-refs is git's, writable: a changed line there does not move a protected branch
t_in_as root "sed -i 's/^[0-9a-f]* refs\/heads\/master/$main0 refs\/heads\/master/' .git/packed-refs" >/dev/null
t_is "editing packed-refs does not move master" "$(t_in_as code 'git rev-parse master')" "$master0"
t_is "work on a branch of its own goes on" \
    "$(t_in_as code "git checkout -q -b work main && git commit -q --allow-empty -m mine && git log -1 --format='%s %an <%ae>'")" \
    "mine Host Person <set@e.x>"
msg='fix: a thing

Co-authored-by: Claude <noreply@anthropic.com>
X-Agent: yes
Signed-off-by: Some One <s@e.x>'
t_in_as code "rm -f hook-ran; git commit -q --allow-empty -m '$msg'" >/dev/null
t_is "strip_attribution: the matching trailers are gone, the rest kept" \
    "$(t_in_as code 'git log -1 --format=%B' | sed '/^$/d')" "fix: a thing
Signed-off-by: Some One <s@e.x>"
t_ok "the project's own pre-commit hook ran inside" t_in_as code 'test -e hook-ran'
t_bg_end
t_is "afterwards main is where it was" "$(git -C "$ws" rev-parse main)" "$main0"
t_is "and master" "$(git -C "$ws" rev-parse master)" "$master0"
t_is "the agent's commits are on its branch" "$(git -C "$ws" log -2 --format=%s work 2>/dev/null | tr '\n' ' ')" "fix: a thing mine "
t_like "the start named the branches as protected" "$(cat "$ws.err")" "Protected paths .*\.git/refs/heads/main, \.git/refs/heads/master"

# --- readonly, and no host identity ---------------------------------------------------------
ws=$tmp/ro
mkdir -p "$ws" && $G -C "$ws" init -q -b main && $G -C "$ws" commit -q --allow-empty -m one
t_bg_session root "$ws" '[git]\nreadonly = true\nseed_host_identity = false\nname = "Set Name"\n'
t_ok "a readonly session comes up" t_bg_up
t_is "only the configured identity" "$(t_in_as code 'git config user.name; git config user.email || echo none')" "Set Name
none"
t_is "readonly: code cannot write the git directory" "$(t_in_as code 'touch .git/x && echo written || echo blocked')" blocked
t_is "readonly: nor can root" "$(t_in_as root 'touch .git/objects/x && echo written || echo blocked')" blocked
t_is "readonly: a commit fails" "$(t_in_as code 'git -c user.email=c@e commit -q --allow-empty -m x >/dev/null 2>&1 && echo committed || echo blocked')" blocked
t_ok "the working tree stays writable" t_in_as code 'touch file'
t_bg_end
t_is "afterwards the repository has its one commit" "$(git -C "$ws" rev-list --count main)" 1
t_done
