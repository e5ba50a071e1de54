#!/bin/bash
# SPDX-License-Identifier: MIT
# A C project from a git remote: clone, build and test again and again with edits between
# (four minutes of compiler runs), fetch and pull, push a branch back.
. /workspace/.corpus/devwork/lib.sh
say start
cd /workspace
git clone -q "git://$DEV/libstr.git" libstr
cd libstr
git config user.email code@corpus.test
git config user.name code
make -s -j2 && make -s test
say edits
end=$((SECONDS + $(n 240 15)))
i=0
while [ $SECONDS -lt $end ] && [ $i -lt 3000 ]; do
    i=$((i + 1))
    printf '/* revision %d */\n' "$i" >>src/num.c
    make -s -j2 >/dev/null && ./tests/run >/dev/null
    if [ $((i % 10)) = 0 ]; then
        make -s clean
        git add -A && git commit -qm "num: revision $i"
        git fetch -q origin
    fi
done
say push
git push -q origin "HEAD:refs/heads/corpus-$(date +%s)"
git pull -q --rebase origin main
make -s clean all test
say done
