# SPDX-License-Identifier: MIT
# The walk coi makes of the workspace at the start and at the end of every session, to find each
# git directory the host could run git in (session/gitscan.h), on a large tree: 100,000 files in
# 5,000 directories, with 50 nested repositories (and a submodule), against find(1) looking for
# .git over the same tree (a lower bound: find neither reads HEAD nor follows gitdir: files). Cold
# caches are not measured (both would read the same directories); the tree stays in the page cache.
gsdir=$(mktemp -d /tmp/coi-bench-gitscan-XXXX)
(
    cd "$gsdir"
    git init -q . && git -c user.email=b@e -c user.name=b commit -q --allow-empty -m top
    for d in $(seq 5000); do
        p=src/m$((d % 50))/d$d
        mkdir -p "$p"
        for f in $(seq 20); do : >"$p/f$f"; done
    done
    for r in $(seq 50); do git init -q "vendor/r$r"; done
    git init -q sub-src && git -C sub-src -c user.email=b@e -c user.name=b commit -q --allow-empty -m s
    git -c protocol.file.allow=always submodule -q add "$gsdir/sub-src" lib/sub
)
walk=$COI_BUILD/tools/gitscan-walk
"$walk" "$gsdir" | tail -1 | sed 's/^/# walk: /'
a=$(mktemp) b=$(mktemp)
for i in $(seq "$BENCH_N"); do
    time_ms "$walk" "$gsdir" >>"$a"
    time_ms find "$gsdir" -name .git -prune >>"$b"
done
report "gitscan, 100k files, 52 repos" ms "$a" "coi workspace walk" "$b" "find -name .git" 2.0
rm -f "$a" "$b"
rm -rf "$gsdir"
