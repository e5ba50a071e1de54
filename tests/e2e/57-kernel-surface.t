#!/bin/bash
# SPDX-License-Identifier: MIT
# [security] reduce_kernel_surface and reduce_kernel_surface_strict, attacked from inside: a
# static program calls io_uring, bpf, userfaultfd, the keyring calls and perf_event_open with
# arguments the kernel itself rejects otherwise (EINVAL, EBADF, ...), as code and as container
# root, in sessions of host root and of another user. Without the keys nothing is EPERM; with
# them each family is, and [container] docker gives way.
# Keys whose effect this file shows (src/config/keys.c names it as their proof):
# security.reduce_kernel_surface, security.reduce_kernel_surface_strict, container.docker (on
# alone: nesting and Incus' seccomp policy, under which container root may unmount).
. "$(dirname "$0")/lib.sh"
t_require_daemon

tmp=$(mktemp -d)
t_defer "rm -rf '$tmp'"
chmod 755 "$tmp"
cc -static -O1 -o "$tmp/ks" "$T_ROOT/tests/e2e/kernel-surface.c" || t_bail "cannot build kernel-surface"
reduced="io_uring_setup io_uring_enter io_uring_register bpf userfaultfd keyctl add_key request_key"

# session WHO CASE CONFIG: a long session of the workspace $tmp/CASE, with the program in it
session() {
    mkdir -p "$tmp/$2" && cp "$tmp/ks" "$tmp/$2/ks"
    t_bg_session "$1" "$tmp/$2" "$3"
}
probe() { t_in_as "$1" ./ks; }
# check DESC REPORT CALLS-THAT-MUST-BE-EPERM: every other call must not be EPERM
check() {
    local desc=$1 report=$2 want=$3 call got bad=""
    for call in $reduced perf_event_open; do
        got=$(awk -v c="$call" '$1 == c {print $2}' <<<"$report")
        if [[ " $want " == *" $call "* ]]; then
            [ "$got" = EPERM ] || bad="$bad $call=$got"
        else
            [ -n "$got" ] && [ "$got" != EPERM ] || bad="$bad $call=${got:-missing}"
        fi
    done
    t_is "$desc" "${bad# }" ""
}

session root none ''
t_ok "default: a session comes up" t_bg_up
for as in code root; do
    check "default, $as: no call is refused with EPERM (the pair of what follows)" "$(probe $as)" ""
done
t_bg_end

session root docker '[container]\ndocker = true\n'
t_ok "docker = true: a session comes up" t_bg_up
t_is "docker = true: nesting on, for Docker inside" "$(incus config get "$name" security.nesting)" true
t_is "  ... with Incus' own seccomp policy (no coi mount rules)" \
    "$(incus config get "$name" raw.seccomp | grep -c '^umount2 errno')" 0
t_bg_end

session root reduced '[security]\nreduce_kernel_surface = true\n'
t_ok "reduce_kernel_surface: a session comes up" t_bg_up
for as in code root; do
    check "reduce_kernel_surface, $as: io_uring, bpf, userfaultfd, keyring calls fail with EPERM" \
        "$(probe $as)" "$reduced"
done
t_bg_end

session root strict '[container]\ndocker = true\n[security]\nreduce_kernel_surface_strict = true\n'
t_ok "reduce_kernel_surface_strict (with docker on): a session comes up" t_bg_up
for as in code root; do
    check "strict, $as: perf_event_open fails with EPERM as well" "$(probe $as)" "$reduced perf_event_open"
done
t_is "strict: Docker's nesting gives way" "$(incus config get "$name" security.nesting)" false
t_like "and coi says so" "$(cat "$tmp/strict.err")" "docker is off: \[security\] reduce_kernel_surface wins"
t_bg_end

# (sudo nft needs a passwd entry this test user lacks: the network is open)
session uid1234 user '[network]\nmode = "open"\n[security]\nreduce_kernel_surface = true\n'
t_ok "another user's session (uid 1234), reduce_kernel_surface: comes up" t_bg_up
for as in code root; do
    check "uid 1234, reduce_kernel_surface, $as: the calls fail with EPERM" "$(probe $as)" "$reduced"
done
t_bg_end
t_done
