#!/bin/bash
# SPDX-License-Identifier: MIT
# coi selftest passes on a correct setup, and fails the right line (and exits 1) when a
# protection is turned off in the user's config; with the monitor on, its reverse-shell line too;
# with a forwarded API key, the line that searches the container for its value.
. "$(dirname "$0")/lib.sh"
t_require_daemon
incus image info coi-default >/dev/null 2>&1 || t_bail "coi-default missing (run: tests/e2e/setup)"
cfg=$(mktemp)
t_defer "rm -f '$cfg'"
# bounded: with the monitor on (the default), a probe that froze the session made it wait for ever
selftest() { (cd /tmp && COI_CONFIG=$cfg timeout -s KILL 300 "$COI" selftest --image coi-default 2>/dev/null); }

: >"$cfg"
out=$(selftest) && rc=0 || rc=$?
t_is "a correct setup: exit 0" "$rc" 0
t_is "no line fails" "$(grep -c '^\[FAIL\]' <<<"$out")" 0
for id in protected-paths no-unmount host-files no-setuid-root cloud-metadata private-networks ipv6 seccomp unprivileged guest-api; do
    t_like "$id passes" "$out" "\[PASS\] $id "
done

printf '[security]\ndisable_protection = true\n' >"$cfg"
out=$(selftest) && rc=0 || rc=$?
t_is "protection off: exit 1" "$rc" 1
t_like "and the protected-paths line fails" "$out" "\[FAIL\] protected-paths"
t_like "while the network lines still pass" "$out" "\[PASS\] cloud-metadata"

printf '[network]\nmode = "open"\n' >"$cfg"
out=$(selftest) && rc=0 || rc=$?
t_is "network open: exit 1" "$rc" 1
t_like "and the private-networks line fails" "$out" "\[FAIL\] private-networks"
t_like "while the protected paths still pass" "$out" "\[PASS\] protected-paths"

printf '[network]\nmode = "allowlist"\nallowed_domains = ["registry.npmjs.org"]\n' >"$cfg"
out=$(selftest) && rc=0 || rc=$?
t_is "allowlist mode: exit 0" "$rc" 0
t_like "an address outside the allowlist is probed and refused" "$out" "\[PASS\] allowlist "
t_like "a name outside the allowlist does not resolve (coi's DNS filter)" "$out" "\[PASS\] allowlist-dns "
t_like "IPv6 checked on the host too" "$out" "\[PASS\] ipv6 "

# secrets on the host: the key forward_env names is searched for inside, as root, and not found;
# a copy of it put in by hand ([defaults.environment]) is found and fails the line
export ANTHROPIC_API_KEY=sk-ant-selftest-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
printf '[defaults]\nforward_env = ["ANTHROPIC_API_KEY"]\n' >"$cfg"
out=$(selftest) && rc=0 || rc=$?
t_like "a forwarded API key stays on the host: the secrets line passes" "$out" "\[PASS\] secrets "
printf '[defaults]\nforward_env = ["ANTHROPIC_API_KEY"]\n[defaults.environment]\nLEAK = "%s"\n' \
    "$ANTHROPIC_API_KEY" >"$cfg"
out=$(selftest) && rc=0 || rc=$?
t_like "the same value put inside by hand fails it" "$out" "\[FAIL\] secrets "
t_is "the secrets search (grep of /etc as root, a HIGH finding) does not freeze the selftest" "$rc" 1
unset ANTHROPIC_API_KEY

printf '[monitoring]\nenabled = true\n' >"$cfg"
out=$(selftest) && rc=0 || rc=$?
t_like "monitor on: the simulated reverse shell is caught" "$out" "\[PASS\] monitor "
t_is "and the selftest passes" "$rc" 0
left() { incus list -f json | jq '[.[] | select((.config["user.coi.workspace"] // "") | startswith("/tmp/coi-selftest-"))] | length'; }
for _ in $(seq 50); do [ "$(left)" = 0 ] && break; sleep 0.1; done
t_is "no selftest container is left" "$(left)" 0
t_is "no scratch workspace or canary is left" "$(ls -d /tmp/coi-selftest-* ~/.coi-selftest-canary-* 2>/dev/null | wc -l)" 0
t_done
