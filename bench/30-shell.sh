# SPDX-License-Identifier: MIT
# coi shell: from the command to the agent's banner on the terminal (the image's fake agent,
# dummy, in tmux inside the container, seen through a tmux on the host), cold and claiming a warm
# container ([container] warm = 1, session/warm.h), against the incus CLI doing the same: launch
# the real image, wait for its IPv4 (an agent needs the network, and coi starts it once its
# network policy is in place, which needs the address), then exec the agent in tmux as the code
# user. The three interleaved in one run; all end with the container deleted (not timed). Before
# each warm shell the pool is full again and the last container gone (13-warm.sh's way: neither
# the filler nor a delete runs during a measurement); a warm shell whose screen does not name the
# warm container did not claim it: counted and said. Needs coi-default (tests/e2e/setup builds
# it). Most of the cold side is the image's boot to its network. coi's phases
# (COI_TIMING_DEBUG=1 on its stderr, the median of each) are printed too: they end where the
# agent's exec begins; the banner comes after that exec and tmux.
if incus image info coi-default >/dev/null 2>&1; then
    ws=$(mktemp -d /tmp/coi-bench-shell-XXXX)
    wws=$(mktemp -d /tmp/coi-bench-shwarm-XXXX)
    git -C "$ws" init -q
    git -C "$wws" init -q
    prefix=$(ws_prefix "$ws")
    wprefix=$(ws_prefix "$wws")
    printf '[tool]\nname = "dummy"\n' >"$ws.toml"
    printf '[tool]\nname = "dummy"\n[container]\nwarm = 1\n' >"$wws.toml"
    T="tmux -L coi-bench-$$"
    a=$(mktemp) b=$(mktemp) w=$(mktemp) ph=$(mktemp) wph=$(mktemp)
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
    # shell_ms DIR PHASES TIMES: coi shell in workspace DIR (config DIR.toml, stderr DIR.err) on
    # a fresh terminal; its ms to the banner appended to TIMES, its phases and that time to PHASES
    shell_ms() {
        local t0
        t0=$(now_ms)
        $T new-session -d -s t -x 120 -y 30 "cd '$1' && INCUS_DIR=$INCUS_DIR COI_CONFIG='$1.toml' COI_TIMING_DEBUG=1 '$COI' shell 2>'$1.err'"
        banner_ms "$t0" >>"$3"
        phases "$1.err" >>"$2"
        printf 'to the banner on the terminal\t%s\n' "$(tail -1 "$3")" >>"$2"
    }
    # shell_end WAIT PREFIX: the agent told to exit; the terminal goes once WAIT PREFIX returns
    # (ws_clear: the session's container gone; warm_settled: that, and the pool full again)
    shell_end() {
        $T send-keys -t t exit Enter || true
        "$1" "$2"
        $T kill-server 2>/dev/null || true
    }
    missed=0
    (cd "$wws" && COI_CONFIG="$wws.toml" "$COI" run -- true >/dev/null 2>&1)
    warm_settled "$wprefix"
    load_note before
    for i in $(seq "$BENCH_N"); do
        wn=$(warm_name "$wprefix")
        shell_ms "$wws" "$wph" "$w"
        $T capture-pane -p -t t 2>/dev/null | grep -q "| $wn" || missed=$((missed + 1))
        shell_end warm_settled "$wprefix"
        shell_ms "$ws" "$ph" "$a"
        shell_end ws_clear "$prefix"
        n=coi-bench-shell-$i
        t0=$(now_ms)
        $T new-session -d -s t -x 120 -y 30 "incus launch coi-default $n -q && until incus list $n -c 4 -f csv | grep -q eth0; do sleep 0.02; done && incus exec -t $n -- su -l code -c 'tmux new-session dummy'"
        banner_ms "$t0" >>"$b"
        $T kill-server 2>/dev/null || true
        incus delete -f "$n" >/dev/null 2>&1 || true
    done
    load_note after
    [ "$missed" = 0 ] || echo "WARNING: $missed of $BENCH_N warm shells claimed nothing (cold starts)"
    report "coi shell to the agent's banner" ms "$a" "coi shell" "$b" "incus launch+exec tmux"
    report "coi shell to the banner, warm pool" ms "$w" "coi shell (warm)" "$b" "incus launch+exec tmux"
    report "coi shell to the banner, warm vs cold" ms "$w" "coi shell (warm)" "$a" "coi shell (cold)"
    phase_table "cold" "$ph" "warm" "$wph"
    (cd "$wws" && "$COI" clean --force >/dev/null 2>&1)
    rm -rf "$ws" "$wws" "$ws.toml" "$wws.toml" "$ws.err" "$wws.err" "$a" "$b" "$w" "$ph" "$wph"
else
    echo "coi shell: skipped (no coi-default image; tests/e2e/setup builds it)"
fi
