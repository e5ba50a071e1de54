#!/bin/bash
# SPDX-License-Identifier: MIT
# The Debian package, as a new user meets it: built from the tree (make deb), installed with apt on
# a clean Debian 12 container (which pulls its dependencies from the archive), then used in a
# terminal under tmux: coi --version, 'coi li<Tab>', man coi, coi list with no daemon (the error
# says what to do), and purged. Screens are kept in $COI_T_SCREENS (default build/screens/).
. "$(dirname "$0")/lib.sh"
t_require_daemon

base=${COI_T_DEB_IMAGE:-coi-base-debian-12}
if ! incus image info "$base" >/dev/null 2>&1; then
    echo "1..0 # SKIP no clean Debian image '$base' on the test daemon (coi build makes it)"
    exit 0
fi
screens=${COI_T_SCREENS:-$T_ROOT/build/screens}
mkdir -p "$screens"

deb=$(cd "$T_ROOT" && scripts/mkdeb 2>&1 | tail -1)
t_ok "make deb builds a package" test -f "$T_ROOT/$deb"
deb=$T_ROOT/$deb
t_like "the package declares its libraries" "$(dpkg-deb -f "$deb" Depends)" 'libcurl4.*libjansson4'
t_like "and recommends what coi drives" "$(dpkg-deb -f "$deb" Recommends)" 'incus-base.*nftables.*lxcfs'
files=$(dpkg-deb -c "$deb" | awk '{print $6}')
for f in ./usr/bin/coi ./usr/share/man/man1/coi.1.gz ./usr/share/bash-completion/completions/coi \
    ./usr/share/zsh/vendor-completions/_coi ./usr/share/fish/vendor_completions.d/coi.fish \
    ./usr/share/doc/coi/config.toml.example ./usr/share/doc/coi/security.md; do
    t_ok "the package ships ${f#.}" grep -qxF "$f" <<<"$files"
done

c=$(t_name ux)
t_defer "incus delete -f $c"
incus launch "$base" "$c" -c boot.autostart=false >/dev/null
cx() { incus exec "$c" -- "$@"; }
for _ in $(seq 60); do cx sh -c 'ip -4 -o addr show eth0 | grep -q inet' 2>/dev/null && break; sleep 0.5; done
# A clean Debian machine has documentation; the minimal base image drops it, so allow it back.
cx sh -c 'grep -l path-exclude /etc/dpkg/dpkg.cfg.d/* | xargs -r rm -f'
t_ok "apt-get update in the clean container" cx timeout 120 apt-get update -q
t_ok "a new user's tools: man, bash-completion, tmux" cx env DEBIAN_FRONTEND=noninteractive \
    timeout 300 apt-get install -y -q --no-install-recommends man-db bash-completion tmux
t_fails "coi is not there yet" cx sh -c 'command -v coi'
incus file push -q "$deb" "$c/tmp/coi.deb"
t_ok "apt-get install ./coi.deb pulls the dependencies and installs" cx env DEBIAN_FRONTEND=noninteractive \
    timeout 300 apt-get install -y -q --no-install-recommends /tmp/coi.deb
version=$("$T_ROOT/build/release/coi" --version)
version=${version//-/+}
t_is "coi --version is the release build's" "$(cx coi --version | tr - +)" "$version"
t_like "and the package version names the same commit" "$(dpkg-deb -f "$deb" Version)" \
    "git${version#coi }" # 0.1.0+gitabc1234 for coi abc1234
t_is "man -w coi finds the page" "$(cx man -w coi)" /usr/share/man/man1/coi.1.gz
man_out=$(cx env MANPAGER=cat MANWIDTH=80 man coi 2>&1)
t_like "man coi renders" "$man_out" 'NAME.*coi - run AI coding agents'
t_like "man coi lists the verbs" "$man_out" 'VERBS.*coi list.*coi completion'
t_like "man coi lists the keys" "$man_out" 'network\.mode'
t_is "the completion loads on demand (bash-completion)" \
    "$(cx bash -c '. /usr/share/bash-completion/bash_completion; _completion_loader coi; complete -p coi')" \
    "complete -F _coi coi"

# A terminal: login bash under tmux, as a user would type.
cx tmux new-session -d -s ux -x 100 -y 30 'bash -l'
pane() { cx tmux capture-pane -p -t ux | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}'; }
wait_for() { # REGEX: bounded wait until the pane shows it
    local i
    for i in $(seq 50); do [[ "$(pane)" =~ $1 ]] && return 0; sleep 0.1; done
    return 1
}
t_ok "a login shell prompt" wait_for '# ?$'
cx tmux send-keys -t ux 'coi li' Tab
t_ok "coi li<Tab> completes to coi list" wait_for 'coi list$'
pane > "$screens/deb-verb.txt"
cx tmux send-keys -t ux C-u 'coi completion ' Tab Tab
t_ok "coi completion <Tab><Tab> offers the shells" wait_for 'bash +fish +zsh'
pane > "$screens/deb-completion.txt"
cx tmux send-keys -t ux C-u C-l 'MANPAGER=cat man coi | head -12' Enter
t_ok "man coi in the terminal" wait_for 'coi - run AI coding agents'
pane > "$screens/deb-man.txt"
cx tmux send-keys -t ux C-l 'coi list; echo "exit=$?"' Enter
t_ok "coi list without a daemon says why and what to do" wait_for "exit=1"
t_like "the hint" "$(pane)" "Incus daemon running"
pane > "$screens/deb-no-daemon.txt"
cx tmux kill-server

t_ok "apt-get purge coi" cx env DEBIAN_FRONTEND=noninteractive apt-get purge -y -q coi
t_fails "the binary is gone" cx test -e /usr/bin/coi
t_fails "the man page is gone" cx test -e /usr/share/man/man1/coi.1.gz
t_fails "the completion is gone" cx test -e /usr/share/bash-completion/completions/coi
t_done
