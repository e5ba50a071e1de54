#!/bin/bash
# SPDX-License-Identifier: MIT
# The configuration reference is generated from the key table the code uses: this test
# regenerates docs/configuration.md and fails when the committed file differs (run 'make docs'),
# and checks that the sample config and the man page come from the same table.
set -u
build=${COI_BUILD:-build/dev}
gen=$build/tools/gen-config-doc
n=0 failed=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=1; fi; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$gen" markdown > "$tmp/configuration.md"
ok $? "gen-config-doc markdown runs"
if diff -u docs/configuration.md "$tmp/configuration.md" > "$tmp/diff"; then ok 0 "docs/configuration.md matches the key table"; else
    ok 1 "docs/configuration.md matches the key table (run 'make docs' and commit it)"
    sed 's/^/# /' "$tmp/diff" | head -40
fi

# Every key of the table has a row, and no row names a key the table lacks.
keys=$("$build/coi" config show --json 2>/dev/null | jq -r 'keys[]' 2>/dev/null | sort)
rows=$(awk '/^## /{s=""} /^## \[/{s=substr($2,2,length($2)-2)} /^\| `/{k=$2; gsub("`","",k); print (s == "" ? "" : s ".") k}' docs/configuration.md | sort)
if [ -n "$keys" ]; then
    if [ "$keys" = "$rows" ]; then ok 0 "one row per key of 'coi config show --json'"; else
        ok 1 "one row per key of 'coi config show --json'"
        diff <(echo "$keys") <(echo "$rows") | sed 's/^/# /' | head -20
    fi
else
    echo "ok $((n += 1)) - # SKIP coi config show --json or jq unavailable"
fi

# The sample config holds every key at its default: uncommented, it is a valid config.
"$gen" toml > "$tmp/sample.toml"
ok $? "gen-config-doc toml runs"
sed -E 's/^#([a-z_]+ = )/\1/; /\(unset\)$/d' "$tmp/sample.toml" > "$tmp/defaults.toml"
out=$("$build/coi" config validate "$tmp/defaults.toml" 2>&1)
rc=$?
ok $rc "the sample's defaults, uncommented, validate"
[ $rc = 0 ] || echo "# $out"
ok "$([ "$(grep -c '^#[a-z_]* = ' "$tmp/sample.toml")" = "$(grep -c '^| `' docs/configuration.md)" ] && echo 0 || echo 1)" \
    "the sample has a line per key"

# The man page lists every key too.
if [ -f "$build/coi.1" ]; then
    missing=0
    for k in $rows; do grep -q "^\.B $k\$" "$build/coi.1" || { missing=1; echo "# man page lacks $k"; }; done
    ok $missing "coi.1 lists every key"
else
    echo "ok $((n += 1)) - # SKIP coi.1 not built"
fi
echo "1..$n"
exit $failed
