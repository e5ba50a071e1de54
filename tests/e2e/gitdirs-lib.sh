# SPDX-License-Identifier: MIT
# The layout of 76-gitdirs.t and 87-quarantine.t (sourced after lib.sh): every kind of git
# directory the host could run git in, below one workspace.
G="git -c user.email=t@e.x -c user.name=t -c protocol.file.allow=always -c init.defaultBranch=main"

# gitdirs_ws DIR: DIR/ws, a project with a submodule lib/a (which has a submodule b of its own),
# a nested repository vendor/x and a worktree wt inside (their sources in DIR/src).
gitdirs_ws() {
    local d=$1
    mkdir -p "$d/src" && cd "$d/src" || return 1
    $G init -q b && $G -C b commit -q --allow-empty -m b
    $G init -q a && $G -C a commit -q --allow-empty -m a
    $G -C a submodule -q add "$d/src/b" b && $G -C a commit -q -m b
    $G init -q "$d/ws" && cd "$d/ws" && $G commit -q --allow-empty -m top
    $G submodule -q add "$d/src/a" lib/a && $G submodule -q update --init --recursive
    $G commit -q -m a
    $G init -q vendor/x && $G -C vendor/x commit -q --allow-empty -m x
    $G worktree add -q wt 2>/dev/null
}
