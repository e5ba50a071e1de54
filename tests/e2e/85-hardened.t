#!/bin/bash
# SPDX-License-Identifier: MIT
# The built-in hardened profile, on a real session (coi run --profile hardened), against the same
# workspace without it: the kernel surface calls fail with EPERM as code and as root, the secrets
# read empty, the network is restricted, Docker's nesting is off, the monitor watches with
# nftables logging every new connection and pauses the session when a credential file is read by
# name, and the session has a wall-clock cap. The profile is
# chosen the way a user makes it the default, with [defaults] profile.
# Keys whose effect this file shows (src/config/keys.c names it as their proof):
# defaults.profile.
. "$(dirname "$0")/lib.sh"
t_require_daemon

tmp=$(mktemp -d)
t_defer "rm -rf '$tmp'"
chmod 755 "$tmp"
cc -static -O1 -o "$tmp/ks" "$T_ROOT/tests/e2e/kernel-surface.c" || t_bail "cannot build kernel-surface"
ws=$tmp/ws
mkdir -p "$ws/deploy" "$ws/.aws"
cp "$tmp/ks" "$ws/ks"
echo "TOPSECRET-env" >"$ws/.env"
echo "TOPSECRET-key" >"$ws/deploy/server.key"
echo "TOPSECRET-npmrc" >"$ws/.npmrc"
echo "TOPSECRET-aws" >"$ws/.aws/credentials"
echo "ordinary" >"$ws/notes.txt"
# what of the secrets is readable, without naming them on a command line (hardened's monitor pauses
# a session that reads a credential file by name: that is checked last)
secrets() { t_in_as "$1" 'cat notes.txt; grep -rh TOPSECRET /workspace; find /workspace -path /workspace/ks -prune -o -type f -size +0 -print'; }
eperm() { t_in_as "$1" ./ks | awk '$2 == "EPERM" {print $1}' | sort | tr '\n' ' '; }
sup_pid() { t_supervisor_pid "$1"; }
# what the session's supervisor (it runs in every mode, for the DNS filter) does: "watching" when
# it monitors, "none" when it only keeps the timer and the DNS filter (--timer-only)
watching() {
    local p
    p=$(sup_pid "$1")
    [ -n "$p" ] || { echo none; return; }
    case " $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null) " in *" --timer-only "*) echo none ;; *) echo watching ;; esac
}

# the pair: the same workspace without the profile, and without the monitor (on by default, it
# would freeze this session at grep's read of .aws/credentials: the hardened part checks that)
t_bg_session root "$ws" '[monitoring]\nenabled = false\n'
t_ok "without the profile: a session comes up" t_bg_up
t_is "  ... bpf and the rest are not refused" "$(eperm root)" ""
t_like "  ... the secrets are readable" "$(secrets code | sort -u | tr '\n' ' ')" "TOPSECRET-env"
t_is "  ... no monitor (turned off for the pair)" "$(watching "$name")" none
t_bg_end

printf '[defaults]\nprofile = "hardened"\n' >"$tmp/default-hardened.toml"
(cd "$ws" && COI_CONFIG=$tmp/default-hardened.toml exec "$COI" run --image "$T_IMAGE" -- sleep 120 >/dev/null 2>"$tmp/h.err") &
pid=$!
t_defer "kill $pid 2>/dev/null"
_t_bg_err=$tmp/h.err
t_ok "hardened: a session comes up" t_bg_up
want="add_key bpf io_uring_enter io_uring_register io_uring_setup keyctl request_key userfaultfd "
for as in code root; do
    t_is "hardened, $as: io_uring, bpf, userfaultfd and the keyring calls fail with EPERM" "$(eperm $as)" "$want"
    t_is "hardened, $as: .env, keys, .npmrc and .aws/ read empty" "$(secrets $as)" \
        "$(printf 'ordinary\n/workspace/notes.txt')"
done
t_like "hardened: the start names what it hid" "$(cat "$tmp/h.err")" "Hidden .*\.env.*"
t_is "hardened: the network is restricted" "$(incus config get "$name" user.coi.network_mode)" restricted
t_like "  ... by the rules on the host" "$(nft list ruleset 2>/dev/null | grep -c "coi:$name\"")" "^[1-9]"
t_is "hardened: no nesting (no Docker)" "$(incus config get "$name" security.nesting)" false
spid=
for _ in $(seq 100); do spid=$(sup_pid "$name"); [ -n "$spid" ] && break; sleep 0.1; done
t_is "hardened: the monitor watches the session" "$(watching "$name")" watching
t_like "  ... with nftables logging every new connection" \
    "$(nft list chain ip coi "ct-$name" 2>/dev/null)" "log prefix \"coi-new:$name \" group"
t_like "  ... and judges (DNS floods too)" "$(tr '\0' ' ' <"/proc/${spid:-0}/cmdline" 2>/dev/null)" " --dns-threshold [0-9]+"
# the exec may not return once the container is frozen (incus forwards a plain TERM to the command)
timeout -s KILL 5 incus exec "$name" --cwd /workspace --user 1000 --group 1000 -- cat .aws/credentials >/dev/null 2>&1
frozen() { for _ in $(seq 100); do [ "$(incus list "$name" -c s -f csv 2>/dev/null)" = FROZEN ] && return 0; sleep 0.1; done; return 1; }
t_ok "hardened: reading a credential file by name pauses the session (the monitor acts)" frozen
t_bg_end
t_like "hardened: a session has a wall-clock cap of 4 hours" \
    "$(cd "$ws" && COI_CONFIG=/dev/null "$COI" config show --profile hardened 2>/dev/null | grep '^max_duration')" \
    '^max_duration = "4h"  # <built-in profile hardened>'
t_done
