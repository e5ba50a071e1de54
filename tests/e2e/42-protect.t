#!/bin/bash
# SPDX-License-Identifier: MIT
# Host protection, attacked from inside: the agent as code and as container root (what code gets
# with sudo) tries every way around the protected paths; the rest of the workspace stays
# writable; afterwards the host's protected files are byte-for-byte what they were. Then the
# symlink refusal, the privileged-profile refusal, and each config switch from the user's and the
# project's config, before and after 'coi trust'.
# Keys whose effect this file shows (src/config/keys.c names it as their proof): git.writable_hooks,
# security.protected_paths, security.additional_protected_paths, security.disable_protection,
# security.host_immutable, security.writable_paths.
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

# Container root against the mounts themselves: copy /workspace without the read-only mounts on
# it, unlock them, move the git directory's mount off the real directory, or do it with the new
# mount API. The container-wide seccomp policy must refuse each, for host root's sessions and for
# another user's (who has no immutable flags to fall back on). Root's session runs with
# host_immutable off here, so the flags do not hide what the mounts let through.
mapi=$(mktemp /tmp/coi-t-protect-mapi-XXXX)
t_defer "rm -f '$mapi'"
cc -static -O1 -o "$mapi" "$T_ROOT/tests/e2e/protect-mountapi.c" || t_bail "cannot build protect-mountapi"
mount_attacks() { # WHO WS NAME
    local who=$1 mws=$2 mname=$3 desc script out i=0
    while IFS='|' read -r desc script; do
        i=$((i + 1)) # each attack mounts on a directory of its own: /mnt/a is /mnt/$i
        out=$(incus exec "$mname" --cwd /workspace -- sh -c "exec 2>/dev/null; mkdir -p /mnt/$i; ${script//\/mnt\/a//mnt/$i} && echo opened || echo blocked" </dev/null)
        t_is "$who: container root: $desc fails" "$(printf '%s' "$out" | tail -n 1)" "blocked"
    done <<'EOF_ATTACKS'
bind mount of /workspace, write a hook through it|mount --bind /workspace /mnt/a && echo evil >> /mnt/a/.git/hooks/pre-commit
rbind of /workspace, unmount or unlock the copy's hooks, write|mount --rbind /workspace /mnt/a && { umount /mnt/a/.git/hooks || mount -o remount,bind,rw /mnt/a/.git/hooks; } && echo evil >> /mnt/a/.git/hooks/pre-commit
remount,bind,rw of the hooks|mount -o remount,bind,rw /workspace/.git/hooks && echo evil >> .git/hooks/pre-commit
open_tree + move_mount clone of /workspace, write|./coi-t-mapi clone /workspace /mnt/a && echo evil >> /mnt/a/.git/hooks/pre-commit
mount_setattr clearing read-only on the hooks|./coi-t-mapi setattr /workspace/.git/hooks && echo evil >> .git/hooks/pre-commit
mount_setattr clearing read-only on .git/config|./coi-t-mapi setattr /workspace/.git/config && echo evil >> .git/config
fsopen/fsmount (new mount API)|./coi-t-mapi fsopen
a new mount namespace|unshare -m true
move the git directory's mount away, write the real one|mount --make-rprivate /; mount --move /workspace/.git /mnt/a && echo evil >> /workspace/.git/hooks/pre-commit
pivot_root|./coi-t-mapi pivot /workspace
EOF_ATTACKS
}
for who in root uid1234; do
    mws=$(mktemp -d /tmp/coi-t-protect-m-XXXX)
    t_defer "rm -rf '$mws'"
    git -C "$mws" init -q .
    printf '#!/bin/sh\necho original hook\n' >"$mws/.git/hooks/pre-commit"
    chmod 755 "$mws/.git/hooks/pre-commit"
    mkdir -p "$mws/.vscode" && echo '{}' >"$mws/.vscode/settings.json"
    cp "$mapi" "$mws/coi-t-mapi"
    mcfg=$(mktemp /tmp/coi-t-protect-cfg-XXXX)
    t_defer "rm -f '$mcfg'"
    mbefore=$(cd "$mws" && snapshot)
    mname=$(t_session_name "$mws" 1)
    t_defer "incus delete -f '$mname'"
    if [ "$who" = root ]; then
        printf '[security]\nhost_immutable = false\n' >"$mcfg"
        (cd "$mws" && COI_CONFIG=$mcfg exec "$COI" run --image "$T_IMAGE" -- sleep 90 >/dev/null 2>&1) &
    else
        printf '[network]\nmode = "open"\n' >"$mcfg"
        chmod 644 "$mcfg"
        chown -R 1234:1234 "$mws"
        (cd "$mws" && t_as_user env COI_CONFIG="$mcfg" "$COI" run --image "$T_IMAGE" -- sleep 90 >/dev/null 2>&1) &
    fi
    mpid=$!
    t_defer "kill $mpid 2>/dev/null"
    t_ok "$who: a session comes up" t_wait_running "$mname"
    t_ok "$who: its command runs" t_wait_cmd "$mname" sleep
    t_is "$who: no immutable flags to fall back on" "$(lsattr -d "$mws/.git/hooks" | grep -c -- '----i')" 0
    mount_attacks "$who" "$mws" "$mname"
    t_is "$who: the host's hooks and config are byte-for-byte unchanged" "$(cd "$mws" && snapshot)" "$mbefore"
    kill -TERM "$mpid"
    wait "$mpid" 2>/dev/null
    t_ok "$who: the session ends" t_wait_gone "$mname"
done

# A workspace without .git: nothing git-side to protect at the start. The agent runs 'git init'
# and plants a hook and core.hooksPath; at the end coi moves the hook to the quarantine and takes
# the key out of the config (the host's git would run them), and says so. The real image has git.
if incus image info coi-default >/dev/null 2>&1; then
    gws=$(mktemp -d /tmp/coi-t-protect-g-XXXX)
    t_defer "rm -rf '$gws' '$gws.stderr'"
    gname=$(t_session_name "$gws" 1)
    t_defer "incus delete -f '$gname'"
    (cd "$gws" && exec "$COI" run --image coi-default -- sleep 90 >/dev/null 2>"$gws.stderr") &
    gpid=$!
    t_defer "kill $gpid 2>/dev/null"
    t_ok "no .git: a session comes up" t_wait_running "$gname"
    t_ok "no .git: its command runs" t_wait_cmd "$gname" "sleep 90"
    # as code: container root cannot create files in this workspace at all (the idmapped mount
    # maps no host uid to it: EOVERFLOW), so code is the one who can plant anything
    out=$(incus exec "$gname" --cwd /workspace --user 1000 --group 1000 --env HOME=/home/code -- sh -c 'git init -q . &&
        printf "#!/bin/sh\necho planted\n" > .git/hooks/pre-commit && chmod 755 .git/hooks/pre-commit &&
        git config core.hooksPath /workspace/h && echo done' 2>&1)
    t_is "code: git init, a hook, core.hooksPath" "$out" "done"
    out=$(incus exec "$gname" --cwd /workspace -- sh -c 'echo x > .git/hooks/post-checkout 2>/dev/null && echo written || echo refused')
    t_diag "container root writing a hook there: $out"
    kill -TERM "$gpid"
    wait "$gpid" 2>/dev/null
    t_ok "no .git: the session ends" t_wait_gone "$gname"
    gerr=$(cat "$gws.stderr")
    t_like "the new repository's hook is neutralised" "$gerr" "'\.git/hooks/pre-commit': a hook written during the session"
    t_like "and its config's hooksPath taken out" "$gerr" "'\.git/config' line [0-9]+: core\.hookspath = '/workspace/h' taken out"
    t_fails "the hook is gone from the host" test -e "$gws/.git/hooks/pre-commit"
    t_is "core.hooksPath is gone from the host's config" "$(git config --file "$gws/.git/config" core.hooksPath)" ""
    t_ok "git's sample hooks are left alone" test -e "$gws/.git/hooks/pre-commit.sample"
    t_is "and not listed" "$(grep -c '\.sample' "$gws.stderr")" 0
else
    t_diag "coi-default missing: the no-.git case is skipped (run: tests/e2e/setup)"
fi

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

# A persistent container set privileged by hand is refused when it would be reused, and nothing
# starts; one whose seccomp policy was removed gets it back.
t_defer "incus delete -f '$name'"
t_ok "a persistent session runs" "$COI" run --persistent --image "$T_IMAGE" -- true
t_is "its container stays, stopped" "$(incus list "$name" -c s -f csv)" STOPPED
incus config set "$name" security.privileged=true
out=$("$COI" run --persistent --image "$T_IMAGE" -- true 2>&1) && rc=0 || rc=$?
t_is "privileged by hand: coi refuses to reuse it (exit 1)" "$rc" 1
t_like "and says how to fix it" "$out" "'$name' sets security.privileged=true.*incus config unset $name security.privileged"
t_is "nothing was started" "$(incus list "$name" -c s -f csv)" STOPPED
incus config unset "$name" security.privileged
incus config unset "$name" raw.seccomp
t_ok "without its seccomp policy: the session runs" "$COI" run --persistent --image "$T_IMAGE" -- true
t_like "and the policy is back" "$(incus config get "$name" raw.seccomp)" "mount errno 1 \[3,4096,SCMP_CMP_MASKED_EQ,4128\]"
incus delete -f "$name" >/dev/null 2>&1

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
printf '[security]\nwritable_paths = [".git/hooks"]\nadditional_protected_paths = [".idea"]\n' >"$cfg"
t_is "user config writable_paths: that path left writable, the others kept" "$(COI_CONFIG=$cfg probe)" "hooks:rw idea:ro"

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
