# SPDX-License-Identifier: MIT
# coi shell: from the command to the agent's banner on the terminal (the image's fake agent,
# dummy, in tmux inside the container, seen through a tmux on the host), against the incus CLI
# doing the same: launch the real image, wait for its IPv4 (an agent needs the network, and coi
# starts it once its network policy is in place, which needs the address), then exec the agent
# in tmux as the code user. Both end with the container deleted (not timed). Needs coi-default
# (tests/e2e/setup builds it). Most of both is the image's boot to DHCP (systemd-networkd). coi's
# phases (COI_TIMING_DEBUG=1 on its stderr, the median of each) are printed too: they end where
# the agent's exec begins; the banner comes after that exec and tmux.
if incus image info coi-default >/dev/null 2>&1; then
    ws=$(mktemp -d /tmp/coi-bench-shell-XXXX)
    git -C "$ws" init -q
    prefix="coi-$(printf '%s' "$ws" | sha256sum | cut -c1-8)-"
    printf '[tool]\nname = "dummy"\n' >"$ws.toml"
    T="tmux -L coi-bench-$$"
    a=$(mktemp) b=$(mktemp) ph=$(mktemp)
    # ms until the screen of session t shows the banner (bounded: 60 s), or nothing
    banner_ms() {
        local t0=$1
        for _ in $(seq 3000); do
            $T capture-pane -p -t t 2>/dev/null | grep -q 'dummy agent ready' && {
                echo $(($(now_ms) - t0))
                return
            }
            sleep 0.02
        done
    }
    for i in $(seq "$BENCH_N"); do
        t0=$(now_ms)
        $T new-session -d -s t -x 120 -y 30 "cd '$ws' && INCUS_DIR=$INCUS_DIR COI_CONFIG='$ws.toml' COI_TIMING_DEBUG=1 '$COI' shell 2>'$ws.err'"
        banner_ms "$t0" >>"$a"
        phases "$ws.err" >>"$ph"
        printf 'to the banner on the terminal\t%s\n' "$(tail -1 "$a")" >>"$ph"
        $T send-keys -t t exit Enter || true
        for _ in $(seq 200); do [ -z "$(incus list "$prefix" -c n -f csv)" ] && break; sleep 0.05; done
        $T kill-server 2>/dev/null || true
        n=coi-bench-shell-$i
        t0=$(now_ms)
        $T new-session -d -s t -x 120 -y 30 "incus launch coi-default $n -q && until incus list $n -c 4 -f csv | grep -q eth0; do sleep 0.02; done && incus exec -t $n -- su -l code -c 'tmux new-session dummy'"
        banner_ms "$t0" >>"$b"
        $T kill-server 2>/dev/null || true
        incus delete -f "$n" >/dev/null 2>&1 || true
    done
    report "coi shell to the agent's banner" ms "$a" "coi shell" "$b" "incus launch+exec tmux"
    phase_table "coi shell" "$ph"
    rm -rf "$ws" "$ws.toml" "$ws.err" "$a" "$b" "$ph"
else
    echo "coi shell: skipped (no coi-default image; tests/e2e/setup builds it)"
fi
