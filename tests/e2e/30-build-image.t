#!/bin/bash
# SPDX-License-Identifier: MIT
# coi build: the sandbox image. tests/e2e/setup makes coi-default with 'coi build' from nothing
# (debootstrap base, then the recipe in a build container) once per recipe hash; this test checks
# what it made: the image carries the recipe hash, a second 'coi build' does nothing, and a
# container from it boots systemd, gets an address on the bridge, and runs every agent and the
# fake agent dummy as the user 'code'.
. "$(dirname "$0")/lib.sh"
t_require_daemon
"$COI" help build >/dev/null 2>&1 || t_bail "this coi has no 'build' verb"
incus image info coi-default >/dev/null 2>&1 || t_bail "coi-default missing (run: tests/e2e/setup)"

as_code() { incus exec "$c" --user 1000 --group 1000 --env HOME=/home/code --env USER=code \
    --cwd /home/code -- bash -lc "$1" 2>&1; }

hash=$("$COI" build --recipe-hash)
t_like "the recipe hash is 16 hex digits" "$hash" '^[0-9a-f]{16}$'
t_is "coi-default carries it" "$(incus image get-property coi-default coi.recipe 2>&1)" "$hash"
t_like "the image says what it is" "$(incus image get-property coi-default description 2>&1)" \
    "^coi sandbox image [0-9]{8}-[0-9]{6} \(recipe $hash\)$"
fp=$(incus image info coi-default | awk '/^Fingerprint:/{print $2}')
t0=$(date +%s%N)
out=$("$COI" build 2>&1) && rc=0 || rc=$?
t1=$(date +%s%N)
t_is "a second 'coi build' succeeds" "$rc" 0
t_like "and does nothing: the image is up to date" "$out" "coi-default is up to date \(recipe $hash"
t_ok "in under 2 s" test $(((t1 - t0) / 1000000)) -lt 2000
t_is "coi-default is the same image" "$(incus image info coi-default | awk '/^Fingerprint:/{print $2}')" "$fp"
t_like "a version alias names it too" "$(incus image info coi-default | grep -E '^ *- coi-default-[0-9]{8}-[0-9]{6}$' | head -n1)" \
    'coi-default-[0-9]{8}-[0-9]{6}'

c=$(t_name build)
t_defer "incus delete -f $c"
t0=$(date +%s%N)
incus launch coi-default "$c" -c boot.autostart=false >/dev/null
state=
for _ in $(seq 300); do
    state=$(incus exec "$c" -- systemctl is-system-running 2>/dev/null) || true
    case "$state" in running | degraded) break ;; esac
    sleep 0.1
done
t1=$(date +%s%N)
t_is "systemd boots to 'running'" "$state" running
t_is "no unit failed" "$(incus exec "$c" -- systemctl --failed --no-legend --plain 2>&1)" ""
ip=
for _ in $(seq 100); do
    ip=$(incus list "$c" -c 4 -f csv | cut -d' ' -f1)
    [ -n "$ip" ] && break
    sleep 0.1
done
bridge=$(incus network get coitestbr0 ipv4.address 2>/dev/null || echo 10.171.92.1/24)
t_like "eth0 has an IPv4 address on the bridge" "$ip" "^${bridge%.*/*}\.[0-9]+$"
t_diag "launch to running: $(((t1 - t0) / 1000000)) ms"

t_is "the user is code, uid 1000, home /home/code" "$(as_code 'echo $(id -un):$(id -u):$HOME')" \
    "code:1000:/home/code"
t_is "code has passwordless sudo" "$(as_code 'sudo -n id -u')" 0
t_like "claude --version runs as code" "$(as_code 'claude --version')" '[0-9]+\.[0-9]+.*Claude Code'
t_like "opencode --version runs as code" "$(as_code 'opencode --version')" '^[0-9]+\.[0-9]+\.[0-9]+'
t_like "codex --version runs as code" "$(as_code 'codex --version')" '^codex-cli [0-9]+\.'
t_like "gemini --version runs as code" "$(as_code 'gemini --version')" '^[0-9]+\.[0-9]+\.[0-9]+'
t_like "node is 22 or newer" "$(as_code 'node --version')" '^v(2[2-9]|[3-9][0-9])\.'
t_is "dummy runs as code: banner and echo" \
    "$(printf 'hello coi\n' | incus exec "$c" --user 1000 --group 1000 --env HOME=/home/code \
        --cwd /home/code -- dummy --session-id t1 2>&1)" \
    "dummy agent ready (session t1)
dummy: hello coi
dummy: bye (session t1)"
t_like "dummy resumes the saved session" "$(as_code 'echo again | dummy --resume t1')" \
    'dummy: resumed session t1 \(1 turns\)'
t_ok "dummy saved the session file" incus exec "$c" -- test -s /home/code/.dummy/sessions/t1.json
t_like "tmux keeps 50000 lines and has a 10 ms escape-time" \
    "$(as_code 'tmux -f /etc/tmux.conf start-server \; show -g history-limit \; show -s escape-time')" \
    'history-limit 50000.*escape-time 10'
t_like "git, curl, jq, rg and a compiler are there" \
    "$(as_code 'git --version; curl --version | head -1; jq --version; rg --version | head -1; cc --version | head -1')" \
    '^git version .*curl .*jq-.*ripgrep .*(cc|gcc) '
t_like "/etc/coi-image names the recipe" "$(incus exec "$c" -- cat /etc/coi-image)" "recipe=$hash"
t_is "each container gets its own machine-id" "$(incus exec "$c" -- sh -c 'test -s /etc/machine-id && echo yes')" yes
t_is "no build leftovers in the image" "$(incus exec "$c" -- sh -c 'ls -d /var/lib/coi-build /var/lib/apt/lists/*_Packages 2>/dev/null')" ""
host_cas=$(cd /usr/local/share/ca-certificates 2>/dev/null && ls -- *.crt 2>/dev/null | sort | tr '\n' ' ')
t_is "the host's extra CA certificates are in the image" \
    "$(incus exec "$c" -- sh -c 'cd /usr/local/share/ca-certificates && ls -- *.crt 2>/dev/null | sort | tr "\n" " "')" \
    "$host_cas"
for h in poweroff close halt shutdown; do
    t_like "helper '$h' stops the container cleanly" "$(incus exec "$c" -- cat /usr/local/bin/$h)" \
        'sudo systemctl --force poweroff'
done
as_code close >/dev/null 2>&1 || true
st=
for _ in $(seq 100); do
    st=$(incus list "$c" -c s -f csv)
    [ "$st" = STOPPED ] && break
    sleep 0.1
done
t_is "'close' as code powers the container off" "$st" STOPPED

t_done
