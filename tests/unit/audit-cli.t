#!/bin/bash
# SPDX-License-Identifier: MIT
# coi audit verify through the command line: an intact log, then a planted edit, deletion,
# reorder and cut end, each found at its line (exit 1); the chain across retention pruning; an
# anchor kept elsewhere.
set -u
build=${COI_BUILD:-build/dev}
coi=$build/coi
write=$build/tools/audit-write
COI_HOME=$(mktemp -d /tmp/coi-t-auditcli-XXXXXX)
export COI_HOME
trap 'rm -rf "$COI_HOME"' EXIT
log=$COI_HOME/audit/coi-t-a.jsonl
. "$(dirname "$0")/check.sh"
fresh() { rm -f "$COI_HOME"/audit/coi-t-a.*; "$write" coi-t-a "$@"; cp "$log" "$COI_HOME/orig"; }
lines() { sed "$1" "$COI_HOME/orig" >"$log"; }

fresh 6
check "an intact log" 0 '^coi-t-a: intact: 6 records \(1\.\.6\), last 6:[0-9a-f]{12}$' "$coi" audit verify coi-t-a
check "json" 0 '"ok":true,"status":"intact".*"records":6' "$coi" audit verify coi-t-a --json
check "without a name: every log" 0 '^coi-t-a: intact' env -u COI_CONTAINER "$coi" audit verify
sed -i '3s/record 3/record 9/' "$log"
check "an edited line" 1 '^coi-t-a: edited, line 3: line 3 was changed after it was written' "$coi" audit verify coi-t-a
lines '4d'
check "a deleted line" 1 '^coi-t-a: missing, line 4: record 4 is missing before line 4' "$coi" audit verify coi-t-a
{ sed -n '1,2p' "$COI_HOME/orig"; sed -n '4p' "$COI_HOME/orig"; sed -n '3p' "$COI_HOME/orig"; sed -n '5,6p' "$COI_HOME/orig"; } >"$log"
check "two lines swapped" 1 '^coi-t-a: reordered, line 3: line 3 holds record 4, but record 3 comes later \(line 4\)' "$coi" audit verify coi-t-a
lines '$d'
check "the last line deleted" 1 '^coi-t-a: truncated: the log ends at record 5, but record 6 was written' "$coi" audit verify coi-t-a
"$write" coi-t-a 1
check "a writer after a cut records it" 1 '^coi-t-a: noted, line 6: line 6 \(record 6\) says the log had been altered' "$coi" audit verify coi-t-a
ok "the note is a record in the log" grep -q '"title":"Audit log truncated".*"audit":{"event":"truncated","expected_seq":6,' "$log"
lines '1d'
check "the first line deleted" 1 '^coi-t-a: missing, line 1: record 1 is missing' "$coi" audit verify coi-t-a

# retention: 4 old records pruned, 3 new kept; the chain still verifies, and still catches edits
rm -f "$COI_HOME"/audit/coi-t-a.*
"$write" coi-t-a 7 4
check "pruned: still intact" 0 '^coi-t-a: intact: 3 records \(5\.\.7\), last 7:[0-9a-f]{12}, 4 earlier records pruned$' "$coi" audit verify coi-t-a
ok "the pruning record names the last record removed" grep -q '^{.*"audit":{"event":"pruned","records":4,"seq":4,' "$log"
cp "$log" "$COI_HOME/orig"
sed -i '2s/record 5/record 0/' "$log"
check "pruned: an edit is still found" 1 '^coi-t-a: edited, line 2' "$coi" audit verify coi-t-a
lines '2d'
check "pruned: a deletion is still found" 1 '^coi-t-a: missing, line 2: record 5 is missing' "$coi" audit verify coi-t-a
lines '1d'
check "pruned: the pruning record removed" 1 '^coi-t-a: missing, line 1: records 1\.\.4 are missing' "$coi" audit verify coi-t-a

# an anchor kept elsewhere (an exported record's seq and hash)
fresh 4
anchor=$(sed -n 3p "$log" | tr -d '\n' | sha256sum | cut -c1-64)
check "anchor matches" 0 'anchor 3 matches' "$coi" audit verify coi-t-a --anchor "3:$anchor"
check "anchor: another hash" 1 '^coi-t-a: anchor, line 3' "$coi" audit verify coi-t-a --anchor "3:${anchor//?/0}"
check "anchor: beyond the end" 1 'the anchor names record 9, but the log ends at record 4' "$coi" audit verify coi-t-a --anchor "9:$anchor"
check "anchor: a bad value" 2 "--anchor takes SEQ:HASH" "$coi" audit verify coi-t-a --anchor 3:xyz
check "no log" 1 "no audit log for 'coi-t-none'" "$coi" audit verify coi-t-none
echo "1..$n"
exit $failed
