#!/bin/bash
# SPDX-License-Identifier: MIT
# scripts/check-layers (run by 'make lint') passes on the tree, and fails on a planted back-arrow
# (a lower module including a higher one) and on a planted circle between two files of a module.
set -u
n=0 failed=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=1; fi; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/scripts"
cp -r src "$tmp/src"
cp scripts/check-layers "$tmp/scripts/"

"$tmp/scripts/check-layers" 2>"$tmp/err"
ok $? "the tree follows the layer table"

cp "$tmp/src/netpolicy/policy.c" "$tmp/policy.c"
sed -i '1a #include "session/session.h"' "$tmp/src/netpolicy/policy.c"
"$tmp/scripts/check-layers" 2>"$tmp/err"
[ $? = 1 ] && grep -q "netpolicy/policy includes session/session.h, but 'netpolicy' may not use 'session'" "$tmp/err"
ok $? "a planted back-arrow (netpolicy -> session) fails, naming the file"
cp "$tmp/policy.c" "$tmp/src/netpolicy/policy.c"

# util/buf.c <-> util/strv.h: a circle inside one module
sed -i '1a #include "util/buf.h"' "$tmp/src/util/strv.h"
grep -q '#include "util/strv.h"' "$tmp/src/util/buf.c" || sed -i '1a #include "util/strv.h"' "$tmp/src/util/buf.c"
"$tmp/scripts/check-layers" 2>"$tmp/err"
[ $? = 1 ] && grep -q "circle: util/buf util/strv" "$tmp/err"
ok $? "a planted circle between two files fails, naming them"

echo "1..$n"
exit $failed
