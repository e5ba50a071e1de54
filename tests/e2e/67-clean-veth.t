#!/bin/bash
# SPDX-License-Identifier: MIT
# coi clean --orphans and the host ends of session NICs: a pair named like coi's (vcoi<8 hex><slot>)
# with both ends on the host, as a start that failed inside Incus leaves it, is removed; the NIC of
# a running session is kept, and so is every interface coi did not name. NOTE: clean --orphans
# acts on the whole test daemon: run this file alone, not beside other tests.
. "$(dirname "$0")/lib.sh"
t_require_daemon

hex=$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
leak=vcoi${hex}7
t_defer "ip link del $leak 2>/dev/null; ip link del coi-t-gv-a 2>/dev/null; ip link del vcoizzzzzzzz1 2>/dev/null"
ip link add "$leak" type veth peer name coi-t-gv-p || t_bail "cannot create a veth pair"
ip link add coi-t-gv-a type veth peer name coi-t-gv-b   # not coi's name
ip link add vcoizzzzzzzz1 type veth peer name coi-t-gv-c # coi's prefix, not coi's name

ws=$(mktemp -d /tmp/coi-t-veth-XXXX)
t_defer "rm -rf '$ws'"
name=$(t_session_name "$ws" 1)
veth=vcoi$(printf '%s' "$ws" | sha256sum | cut -c1-8)1
t_defer "incus delete -f '$name' 2>/dev/null"
(cd "$ws" && COI_CONFIG=/dev/null exec "$COI" run --image "$T_IMAGE" -- sleep 60 >/dev/null 2>&1) &
pid=$!
t_defer "kill $pid 2>/dev/null"
t_ok "a session comes up" t_wait_running "$name"
t_ok "its command runs" t_wait_cmd "$name" sleep
t_ok "its NIC's host end is $veth" ip link show "$veth"

out=$("$COI" clean --orphans --dry-run 2>&1)
t_like "--dry-run names the leaked pair" "$out" "would remove $leak \(host interface, its container is gone\)"
t_ok "and leaves it" ip link show "$leak"
out=$("$COI" clean --orphans 2>&1)
t_like "clean --orphans says it removes the leaked pair" "$out" "removing $leak"
t_fails "the leaked interface is gone" ip link show "$leak"
t_fails "with its peer" ip link show coi-t-gv-p
t_ok "the running session's NIC is kept" ip link show "$veth"
t_ok "an interface coi did not name is kept" ip link show coi-t-gv-a
t_ok "one with coi's prefix but not its name is kept" ip link show vcoizzzzzzzz1
t_is "nothing else was named" "$(grep -c 'coi-t-gv\|vcoizzz\|'"$veth" <<<"$out")" 0

kill -TERM "$pid"
wait "$pid" 2>/dev/null
t_ok "the session ends" t_wait_gone "$name"
t_done
