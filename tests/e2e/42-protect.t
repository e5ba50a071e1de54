#!/bin/bash
# SPDX-License-Identifier: MIT
# Host protection, attacked from inside: the agent as code and as container root (what code gets
# with sudo) tries every way around the protected paths; the rest of the workspace stays
# writable; afterwards the host's protected files are byte-for-byte what they were. Then the
# symlink refusal, the privileged-profile refusal, and each config switch from the user's and the
# project's config, before and after 'coi trust'.
. "$(dirname "$0")/lib.sh"
t_require_daemon

ws=$(mktemp -d /tmp/coi-t-protect-XXXX)
t_defer "chattr -R -i '$ws' 2>/dev/null; rm -rf '$ws'"
cd "$ws"
git init -q .
printf '#!/bin/sh\necho original hook\n' >.git/hooks/pre-commit
chmod 755 .git/hooks/pre-commit
mkdir -p .vscode && echo '{}' >.vscode/settings.json
snapshot() { find .git/hooks .git/config .vscode -type f -print0 | sort -z | xargs -0 sha256sum; }
before=$(snapshot)
name=$(t_session_name "$ws" 1)
export COI_CONFIG=/dev/null # the built-in defaults, whatever the machine's user config says

"$COI" run --image "$T_IMAGE" -- sleep 90 >/dev/null 2>"$ws.stderr" &
pid=$!
t_defer "kill $pid 2>/dev/null; rm -f '$ws.stderr'"
t_ok "a session comes up" t_wait_running "$name"

attack() { # USER DESC SCRIPT: the attack must leave the canary of failure
    local who=$1 desc=$2 script=$3 out
    if [ "$who" = root ]; then
        out=$(incus exec "$name" --cwd /workspace -- sh -c "exec 2>/dev/null; $script")
    else
        out=$(incus exec "$name" --cwd /workspace --user 1000 --group 1000 --env HOME=/home/code -- sh -c "exec 2>/dev/null; $script")
    fi
    t_is "$who: $desc fails" "$(printf '%s' "$out" | tail -n 1)" "blocked"
}
for who in code root; do
    attack $who "write a hook" 'echo evil > .git/hooks/pre-commit 2>/dev/null && echo opened || echo blocked'
    attack $who "append to a hook" 'echo evil >> .git/hooks/pre-commit 2>/dev/null && echo opened || echo blocked'
    attack $who "truncate a hook" 'true > .git/hooks/pre-commit 2>/dev/null && echo opened || echo blocked'
    attack $who "delete a hook" 'rm -f .git/hooks/pre-commit 2>/dev/null; [ -e .git/hooks/pre-commit ] && echo blocked || echo opened'
    attack $who "rename over a hook" 'echo evil > /tmp/x; mv -f /tmp/x .git/hooks/pre-commit 2>/dev/null && echo opened || echo blocked'
    attack $who "chmod a hook" 'chmod 777 .git/hooks/pre-commit 2>/dev/null && echo opened || echo blocked'
    attack $who "create a new hook" 'echo evil > .git/hooks/post-checkout 2>/dev/null && echo opened || echo blocked'
    attack $who "replace the hooks directory" 'rm -rf .git/hooks 2>/dev/null; mkdir -p .git/hooks 2>/dev/null; echo evil > .git/hooks/pre-push 2>/dev/null && echo opened || echo blocked'
    attack $who "symlink a new hook" 'ln -s /tmp/evil .git/hooks/pre-rebase 2>/dev/null && echo opened || echo blocked'
    attack $who "hard-link a new hook" 'echo evil > /workspace/evil; ln /workspace/evil .git/hooks/pre-applypatch 2>/dev/null && echo opened || echo blocked'
    attack $who "set core.hooksPath in .git/config" 'printf "[core]\n\thooksPath = /workspace/h\n" >> .git/config 2>/dev/null && echo opened || echo blocked'
    attack $who "rename .git away" 'mv .git .git-moved 2>/dev/null && echo opened || echo blocked'
    attack $who "rename the hooks directory away" 'mv .git/hooks .git/hooks-moved 2>/dev/null && echo opened || echo blocked'
    attack $who "write .vscode/tasks.json" 'echo "{\"tasks\":[]}" > .vscode/tasks.json 2>/dev/null && echo opened || echo blocked'
    attack $who "unmount the hooks overlay" 'umount /workspace/.git/hooks 2>/dev/null && echo opened || echo blocked'
    attack $who "unmount the git directory" 'umount -l /workspace/.git 2>/dev/null && echo opened || echo blocked'
    attack $who "remount the hooks read-write" 'mount -o remount,rw /workspace/.git/hooks 2>/dev/null && echo opened || echo blocked'
done
out=$(incus exec "$name" --cwd /workspace --user 1000 --group 1000 -- sh -c 'echo fine > ok.txt && mkdir -p src && echo x > src/a && rm src/a && echo writable')
t_is "code: the rest of the workspace stays writable" "$out" "writable"
out=$(incus exec "$name" --cwd /workspace/.git --user 1000 --group 1000 -- sh -c 'echo x > objects/coi-t && rm objects/coi-t && echo ok')
t_is "code: the git directory itself stays writable (commits work)" "$out" "ok"
t_like "the startup report names the protected paths" "$(cat "$ws.stderr")" "Protected paths \(mounted read-only\): .git/hooks, .git/config.*\.vscode"
kill -TERM "$pid"
wait "$pid" 2>/dev/null
t_ok "the session ends" t_wait_gone "$name"
t_is "afterwards the host's protected files are byte-for-byte unchanged" "$(snapshot)" "$before"
t_fails "no hook was added" test -e .git/hooks/post-checkout -o -e .git/hooks/pre-push -o -L .git/hooks/pre-rebase
t_is "the immutable flags are gone again" "$(lsattr -d .git/hooks .git/config | grep -c -- '----i')" 0

# A protected path that is a symlink is refused, and nothing is created.
ln -s /etc .husky
out=$("$COI" run --image "$T_IMAGE" -- true 2>&1) && rc=0 || rc=$?
t_is "a symlinked protected path: coi refuses (exit 1)" "$rc" 1
t_like "and says why" "$out" "'.husky' is or lies under a symlink"
t_is "no container was created" "$(incus list "$name" -c n -f csv)" ""
rm .husky

# A privileged default profile: refused before anything is created. (Kept short: the test daemon
# is shared by the other tests.)
incus profile set default security.privileged=true
t_defer "incus profile unset default security.privileged"
out=$("$COI" run --image "$T_IMAGE" -- true 2>&1) && rc=0 || rc=$?
incus profile unset default security.privileged
t_is "a privileged profile: coi refuses (exit 1)" "$rc" 1
t_like "and says how to fix it" "$out" "security.privileged=true.*incus profile unset default security.privileged"
t_is "nothing was created" "$(incus list "$name" -c n -f csv)" ""

# Config switches. In the user's config they apply at once.
probe() { # what code can do to the hooks and to .idea, as "hooks:W idea:W"
    "$COI" run --image "$T_IMAGE" -- sh -c '
        h=ro; echo x > .git/hooks/coi-t-probe 2>/dev/null && h=rw && rm -f .git/hooks/coi-t-probe
        i=ro; echo x > .idea/coi-t-probe 2>/dev/null && i=rw && rm -f .idea/coi-t-probe
        echo "hooks:$h idea:$i"' 2>/dev/null
}
mkdir -p .idea
t_is "defaults: hooks read-only, .idea writable" "$(probe)" "hooks:ro idea:rw"
cfg=$(mktemp)
t_defer "rm -f '$cfg'"
printf '[git]\nwritable_hooks = true\n' >"$cfg"
t_is "user config writable_hooks: hooks writable" "$(COI_CONFIG=$cfg probe)" "hooks:rw idea:rw"
printf '[security]\nadditional_protected_paths = [".idea"]\n' >"$cfg"
t_is "user config additional_protected_paths: .idea read-only" "$(COI_CONFIG=$cfg probe)" "hooks:ro idea:ro"
printf '[security]\nprotected_paths = [".idea"]\n' >"$cfg"
t_is "user config protected_paths replaces the list" "$(COI_CONFIG=$cfg probe)" "hooks:rw idea:ro"
printf '[security]\ndisable_protection = true\n' >"$cfg"
t_is "user config disable_protection: nothing protected" "$(COI_CONFIG=$cfg probe)" "hooks:rw idea:rw"

# In the project's config, weakening switches wait for 'coi trust'; tightening ones apply.
export COI_HOME=$(mktemp -d) # approvals of this test only
t_defer "rm -rf '$COI_HOME'"
mkdir -p .coi
for sw in '[git]\nwritable_hooks = true\n|hooks:rw idea:rw' \
    '[security]\nprotected_paths = [".idea"]\n|hooks:rw idea:ro' \
    '[security]\ndisable_protection = true\n|hooks:rw idea:rw'; do
    printf "${sw%|*}" >.coi/config.toml
    key=$(head -2 .coi/config.toml | tail -1 | cut -d' ' -f1)
    out=$("$COI" run --image "$T_IMAGE" -- true 2>&1)
    t_like "project $key before trust: ignored with a warning" "$out" "ignoring '[a-z]+\.$key'.*coi trust"
    t_is "project $key before trust: protection unchanged" "$(probe)" "hooks:ro idea:rw"
    t_ok "coi trust" "$COI" trust
    t_is "project $key after trust: applies" "$(probe)" "${sw#*|}"
    echo "# changed" >>.coi/config.toml
    t_is "project $key after the file changes: ignored again" "$(probe)" "hooks:ro idea:rw"
done
printf '[security]\nadditional_protected_paths = [".idea"]\n' >.coi/config.toml
t_is "project additional_protected_paths applies without trust" "$(probe)" "hooks:ro idea:ro"
t_done
