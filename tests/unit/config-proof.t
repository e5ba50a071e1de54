#!/bin/bash
# SPDX-License-Identifier: MIT
# Every key is a promise, so every key of the table (src/config/keys.c) names the test that shows
# its effect in a real session (.proof: an e2e file; a unit test where the effect is a pure
# translation, such as the image build's plan), and that test names the key ("section.key"). A key that
# does not act is not in the table: the loader warns that it is not supported.
#
# Keys still waiting for their test are listed below, with who is on it. The list only shrinks:
# this test fails when a key without a proof is missing from it, and when a key on it has one.
set -u
build=${COI_BUILD:-build/dev}
gen=$build/tools/gen-config-doc
n=0 failed=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=1; fi; }

# KEY WHO
pending=$(sed -e 's/#.*//' -e '/^ *$/d' <<'EOF'
EOF
)
is_pending() { grep -q "^$1 " <<<"$pending"; }

table=$("$gen" proofs)
ok $? "gen-config-doc proofs runs"
while IFS=$'\t' read -r key proof; do
    if [ -z "$proof" ]; then
        is_pending "$key"
        ok $? "$key names the test that shows its effect (or is on the list of keys awaiting one)"
        continue
    fi
    if is_pending "$key"; then
        ok 1 "$key has a proof: take it off this test's list of keys awaiting one"
        continue
    fi
    if [ ! -f "$proof" ]; then
        ok 1 "$key: its proof $proof exists"
    else
        grep -qF -- "$key" "$proof"
        ok $? "$key: its proof $proof names it"
    fi
done <<<"$table"

# Nothing on the list that the table does not have.
while read -r key _; do
    [ -n "$key" ] || continue
    grep -q "^$key"$'\t' <<<"$table"
    ok $? "the waiting key $key is in the table"
done <<<"$pending"
echo "1..$n"
exit $failed
