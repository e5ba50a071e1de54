#!/bin/bash
# SPDX-License-Identifier: MIT
# [security] secret_paths, attacked from inside: files and directories that match a pattern,
# anywhere in the workspace, are empty and read-only for the whole session, as code and as
# container root (unmount, bind copy, remount, move), in sessions of host root and of another
# user; one inside a protected directory too. The start names what was hidden, and so does the
# agent's context; the host's copies are untouched. Without the key the same reads show the
# secrets (the pair). A persistent container started again hides what the patterns match then.
# Keys whose effect this file shows (src/config/keys.c names it as their proof):
# security.secret_paths.
. "$(dirname "$0")/lib.sh"
t_require_daemon

tmp=$(mktemp -d)
t_defer "rm -rf '$tmp'"
chmod 755 "$tmp"
patterns='[security]\nsecret_paths = [".env", "*.pem", "secrets/**"]\n'

# workspace DIR: a project with secrets at several depths, and an ordinary file
workspace() {
    mkdir -p "$1"/{api/deep,certs,secrets/inner,.vscode}
    git -C "$1" init -q
    echo "TOPSECRET-root-env" >"$1/.env"
    echo "TOPSECRET-deep-env" >"$1/api/deep/.env"
    echo "TOPSECRET-pem" >"$1/certs/server.pem"
    echo "TOPSECRET-dir" >"$1/secrets/inner/token"
    echo "TOPSECRET-in-protected" >"$1/.vscode/deploy.pem"
    echo "ordinary" >"$1/notes.txt"
}
snapshot() { (cd "$1" && find . -path ./.git -prune -o -type f -print0 | sort -z | xargs -0 sha256sum); }

session() { t_bg_session "$1" "$tmp/$2" "$3"; }
in_as() { t_in_as "$@"; }
# every secret's content, read every way a shell reads: only the ordinary file may come back
leak() { in_as "$1" 'cat notes.txt .env api/deep/.env certs/server.pem .vscode/deploy.pem secrets/inner/token; grep -rh TOPSECRET /workspace'; }
attack() { # AS DESC SCRIPT: the script prints "opened" when it got through
    local out
    out=$(in_as "$1" "$3 && echo opened || echo blocked")
    t_is "$1: $2 fails" "$(printf '%s' "$out" | tail -n 1)" blocked
}

# ---- the pair: without the key, the secrets are there ----
workspace "$tmp/plain"
session root plain ''
t_ok "without secret_paths: a session comes up" t_bg_up
t_like "without secret_paths: code reads the secrets" "$(leak code | sort -u | tr '\n' ' ')" \
    "TOPSECRET-deep-env.*TOPSECRET-dir.*TOPSECRET-in-protected.*TOPSECRET-pem.*TOPSECRET-root-env.*ordinary"
t_bg_end

# ---- host root's session ----
workspace "$tmp/root"
before=$(snapshot "$tmp/root")
session root root "$patterns"
t_ok "secret_paths: a session comes up" t_bg_up
t_like "the start names what it hid" "$(cat "$tmp/root.err")" \
    "Hidden \(\[security\] secret_paths, empty and read-only\): .*\.env.*api/deep/\.env"
for p in certs/server.pem secrets .vscode/deploy.pem; do
    t_like "  ... and $p" "$(grep '^Hidden' "$tmp/root.err")" "[ :]$p(,|$)"
done
t_unlike() { if [[ "$2" =~ $3 ]]; then _t_result 1 "$1"; t_diag "got: '$2'"; else _t_result 0 "$1"; fi; }
t_unlike "  ... and not the ordinary file" "$(grep '^Hidden' "$tmp/root.err")" notes
t_like "the agent's context says what is hidden" \
    "$(incus exec "$name" -- cat /home/code/SANDBOX_CONTEXT.md)" "Hidden by the user.*\.env"
t_is "code still reads the ordinary file" "$(in_as code 'cat notes.txt')" ordinary
for as in code root; do
    t_is "$as: every secret reads empty, at every depth, and grep finds none" "$(leak $as)" ordinary
    t_is "$as: the hidden directory is empty" "$(in_as $as 'ls -A secrets')" ""
    attack $as "writing a hidden file" 'echo x > .env'
    attack $as "deleting a hidden file" 'rm -f .env; [ ! -e .env ]'
    attack $as "renaming a hidden file away" 'mv .env moved.env'
    attack $as "creating a file in a hidden directory" 'echo x > secrets/new'
done
attack root "unmounting the mask" 'umount /workspace/.env && grep -q TOPSECRET .env'
attack root "lazily unmounting the hidden directory's mask" 'umount -l /workspace/secrets && ls secrets/inner/token'
attack root "a bind copy of /workspace without the masks" 'mkdir -p /mnt/a && mount --bind /workspace /mnt/a && grep -q TOPSECRET /mnt/a/.env'
attack root "remounting the mask read-write" 'mount -o remount,bind,rw /workspace/.env && echo x > .env'
attack root "moving the mask away" 'mount --make-rprivate / ; mkdir -p /mnt/b && mount --move /workspace/secrets /mnt/b && ls secrets/inner/token'
attack root "a new mount namespace" 'unshare -m sh -c "umount /workspace/.env && grep -q TOPSECRET /workspace/.env"'
t_is "after every attack the secrets still read empty" "$(leak root)" ordinary
t_bg_end
t_is "the host's copies are byte-for-byte untouched" "$(snapshot "$tmp/root")" "$before"

# ---- another user's session (no setuid filter in its policy) ----
workspace "$tmp/user"
# (sudo nft needs a passwd entry this test user lacks: the network is open)
session uid1234 user "$patterns"'[network]\nmode = "open"\n'
t_ok "uid 1234, secret_paths: a session comes up" t_bg_up
for as in code root; do
    t_is "uid 1234, $as: every secret reads empty" "$(leak $as)" ordinary
done
attack root "uid 1234: unmounting the mask" 'umount /workspace/.env && grep -q TOPSECRET .env'
attack root "uid 1234: a bind copy of /workspace" 'mkdir -p /mnt/a && mount --bind /workspace /mnt/a && grep -q TOPSECRET /mnt/a/.env'
t_bg_end

# ---- a persistent container started again hides what the patterns match now ----
workspace "$tmp/keep"
printf '[security]\nsecret_paths = [".env"]\n' >"$tmp/keep1.toml"
printf '[security]\nsecret_paths = ["*.pem"]\n' >"$tmp/keep2.toml"
kname=$(t_session_name "$tmp/keep" 1)
t_defer "incus delete -f '$kname'"
out=$(cd "$tmp/keep" && COI_CONFIG=$tmp/keep1.toml "$COI" run --persistent --image "$T_IMAGE" -- cat .env certs/server.pem 2>/dev/null)
t_is "persistent, first session: .env hidden, the pem file not" "$out" "TOPSECRET-pem"
out=$(cd "$tmp/keep" && COI_CONFIG=$tmp/keep2.toml "$COI" run --persistent --image "$T_IMAGE" -- cat .env certs/server.pem 2>/dev/null)
t_is "persistent, started again with other patterns: the pem file hidden, .env back" "$out" "TOPSECRET-root-env"
t_done
