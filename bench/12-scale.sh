# SPDX-License-Identifier: MIT
# Scale (BENCH_SCALE=1, or BENCH_PARTS naming 12-scale; a few minutes on coi-default):
#  - at once: SCALE_N (10) `coi run -- true`, one per workspace, started together, against one
#    alone, interleaved (one, ten, one, ten, ... SCALE_ROUNDS times): the ten's total wall time as
#    a ratio of one's, each one's own time, and that every one succeeds and leaves nothing behind
#    once its container is gone (no container, nft rule, chain or set, host veth, idmapped mount,
#    workspace lock, owner record, supervisor or placeholder in the workspace); a failure or a
#    leftover is printed and counted (SCALE_SAME_WS=1: the ten in one workspace instead, slots
#    1-10, sharing its lock and placeholders).
#  - idle: 1, 5 and 10 (SCALE_IDLE_COUNTS) sessions of `coi run -- sleep` at once, left idle for
#    SCALE_IDLE_S (30) seconds after they settle: per session, the host's MemAvailable drop, the
#    container's memory cgroup, the RSS and CPU time of coi run (the client waiting on the
#    command) and of the supervisor (`coi monitor NAME --daemon`, with its DNS filter), the
#    container's CPU, and the nft rules, chains and sets named for it: the figures per session
#    should not grow with the count (linear cost).
# SCALE_PARTS picks "once" or "idle" (default both).
# Needs root (nft, /proc of the supervisors). Every wait is bounded; what it starts it ends, by pid
# and by name (its workspaces' containers only). Run under the e2e lock like the other parts.
case " ${BENCH_PARTS:-} " in *" 12-scale "*) BENCH_SCALE=1 ;; esac
if [ "${BENCH_SCALE:-0}" = 1 ]; then (
    set +e +o pipefail # counted and reported, not fatal; the subshell keeps COI_HOME and the traps here
    SCALE_N=${SCALE_N:-10} SCALE_ROUNDS=${SCALE_ROUNDS:-3} SCALE_IDLE_S=${SCALE_IDLE_S:-30}
    sc_dir=$(mktemp -d /tmp/coi-bench-scale-XXXX)
    sc_hz=$(getconf CLK_TCK)
    sc_pids=()
    trap sc_cleanup EXIT
    # its own coi home: the locks and owner records looked at are this run's alone
    export COI_HOME=$sc_dir/home
    mkdir -p "$COI_HOME"

    sc_ws() { # WS: a fresh workspace
        rm -rf "$1" && mkdir -p "$1" && git -C "$1" init -q
    }
    sc_hash() { printf '%s' "$1" | sha256sum | cut -c1-8; }
    sc_names() { # the containers of workspaces $@ (any slot)
        local ws
        for ws in "$@"; do incus list "coi-$(sc_hash "$ws")-" -c n -f csv 2>/dev/null; done
    }
    sc_gone() { # wait (bounded, 60 s) until workspaces $@ have no container
        for _ in $(seq 600); do [ -z "$(sc_names "$@")" ] && return 0; sleep 0.1; done
        return 1
    }
    sc_sup_pids() { pgrep -f "^coi monitor $1 --daemon" | tr '\n' ' '; }
    sc_cpu() { # CPU time (ms, user + system) of the processes $@
        local p t=0 v
        for p in "$@"; do
            v=$(awk -v hz="$sc_hz" '{sub(/.*\) /, ""); split($0, f, " "); printf "%.0f", (f[12] + f[13]) * 1000 / hz}' \
                "/proc/$p/stat" 2>/dev/null) || v=0
            t=$((t + ${v:-0}))
        done
        echo "$t"
    }
    sc_rss() { # RSS (KiB) of the processes $@
        local p t=0 v
        for p in "$@"; do
            v=$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null) || v=0
            t=$((t + ${v:-0}))
        done
        echo "$t"
    }
    sc_cg_cpu() { # the container's CPU time, ms
        local v
        v=$(cat "/sys/fs/cgroup/cpuacct/lxc.payload.$1/cpuacct.usage" 2>/dev/null) && { echo $((v / 1000000)); return; }
        awk '/^usage_usec/ {printf "%d\n", $2 / 1000}' "/sys/fs/cgroup/lxc.payload.$1/cpu.stat" 2>/dev/null || echo 0
    }
    sc_cg_mem() { # the container's memory cgroup, KiB
        local v
        v=$(cat "/sys/fs/cgroup/memory/lxc.payload.$1/memory.usage_in_bytes" 2>/dev/null ||
            cat "/sys/fs/cgroup/lxc.payload.$1/memory.current" 2>/dev/null) || v=0
        echo $((v / 1024))
    }
    sc_avail() { awk '/^MemAvailable:/ {print $2}' /proc/meminfo; }
    sc_forks() { awk '/^processes/ {print $2}' /proc/stat; } # the host's forks since boot
    sc_nft() { # NAME: "rules chains sets" named for container NAME (ip and bridge tables)
        nft list ruleset 2>/dev/null | awk -v n="$1" '
            index($0, "comment \"coi:" n "\"") { r++ }
            $1 == "chain" && $2 ~ ("-" n "$") { c++ }
            $1 == "set" && $2 ~ ("-" n "$") { s++ }
            END { printf "%d %d %d\n", r, c, s }'
    }
    # sc_left WS...: what sessions of workspaces $@ left behind, one line each (nothing: all clean)
    sc_left() {
        local ws h n
        for ws in "$@"; do
            h=$(sc_hash "$ws")
            sc_names "$ws" | sed 's/^/container /'
            nft list ruleset 2>/dev/null | grep -E "coi-$h-[0-9]+" | sed 's/^[[:space:]]*/nft: /'
            ip -o link show 2>/dev/null | grep -o "vcoi${h}[0-9]*" | sed 's/^/veth /'
            grep -o "[^ ]*/coi-$h-[0-9]*[^ ]*" /proc/mounts | sed 's/^/mount /'
            pgrep -af "^coi monitor coi-$h-" | sed 's/^/supervisor /'
            for n in config.worktree info/attributes; do # placeholders (git init makes the rest)
                [ -e "$ws/.git/$n" ] && echo "placeholder $ws/.git/$n"
            done
        done
        # locks, owner records, pid files; the detached child that deleted
        # a container forgets its owner a moment after (bounded: 10 s)
        for _ in $(seq 100); do
            [ -z "$(sc_files)" ] && break
            sleep 0.1
        done
        sc_files
    }
    sc_files() {
        local n
        for n in "$COI_HOME"/run/*; do
            [ -e "$n" ] && echo "file $n"
        done
        return 0
    }
    sc_cleanup() {
        local p
        for p in "${sc_pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
        for p in "${sc_pids[@]}"; do
            for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
            kill -KILL "$p" 2>/dev/null
            wait "$p" 2>/dev/null
        done
        sc_pids=()
        for n in $(sc_names "$sc_dir"/ws-*); do incus delete -f "$n" >/dev/null 2>&1; done
        sc_gone "$sc_dir"/ws-* || true
    }

    fails=0
    case " ${SCALE_PARTS:-once idle} " in *" once "*)
    # --- at once ---
    # sc_one WS OUT: `coi run -- true` in WS (bounded: 5 min), "rc ms" to OUT
    sc_one() {
        local t0 rc=0
        t0=$(now_ms)
        (cd "$1" && COI_TIMING_DEBUG=1 exec timeout 300 "$COI" run --image "$IMAGE" -- true >"$2.log" 2>&1) || rc=$?
        echo "$rc $(($(now_ms) - t0))" >"$2"
        phases "$2.log" >>"$3"
    }
    one=$(mktemp) ten=$(mktemp) each=$(mktemp)
    wss=()
    for i in $(seq "$SCALE_N"); do
        if [ "${SCALE_SAME_WS:-0}" = 1 ]; then wss+=("$sc_dir/ws-1"); else wss+=("$sc_dir/ws-$i"); fi
    done
    mapfile -t uniq_ws < <(printf '%s\n' "${wss[@]}" | sort -u)
    for ws in "${uniq_ws[@]}"; do sc_ws "$ws"; done
    echo "at once: $SCALE_N coi run -- true together against one alone, $SCALE_ROUNDS rounds," \
        "$([ "${SCALE_SAME_WS:-0}" = 1 ] && echo "one workspace" || echo "a workspace each");" \
        "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
    for r in $(seq "$SCALE_ROUNDS"); do
        sc_one "${wss[0]}" "$sc_dir/one" "$sc_dir/phases-one"
        read -r rc ms <"$sc_dir/one"
        [ "$rc" = 0 ] || { echo "  one alone failed ($rc): $(tail -3 "$sc_dir/one.log")"; fails=$((fails + 1)); }
        echo "$ms" >>"$one"
        sc_gone "${uniq_ws[@]}" || true
        sleep 2
        t0=$(now_ms)
        for i in $(seq "$SCALE_N"); do
            sc_one "${wss[i - 1]}" "$sc_dir/ten-$i" "$sc_dir/phases-ten-$i" &
            sc_pids+=($!)
        done
        for p in "${sc_pids[@]}"; do wait "$p"; done
        t1=$(now_ms)
        sc_pids=()
        echo $((t1 - t0)) >>"$ten"
        for i in $(seq "$SCALE_N"); do
            read -r rc ms <"$sc_dir/ten-$i"
            echo "$ms" >>"$each"
            [ "$rc" = 0 ] || { echo "  round $r, session $i failed ($rc): $(tail -3 "$sc_dir/ten-$i.log")"; fails=$((fails + 1)); }
        done
        sc_gone "${uniq_ws[@]}" || echo "  round $r: containers still there after 60 s"
        sleep 5 # the ten's deletes and the daemon settle before the next one alone
        left=$(sc_left "${uniq_ws[@]}")
        [ -z "$left" ] || { echo "  round $r left behind:"; sed 's/^/    /' <<<"$left"; fails=$((fails + 1)); }
        echo "  round $r: one $(tail -1 "$one") ms, $SCALE_N at once $((t1 - t0)) ms (each $(tail -n "$SCALE_N" "$each" | sort -n | paste -sd' '))"
    done
    echo "  load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
    report "$SCALE_N coi run -- true at once" ms "$ten" "all $SCALE_N (total)" "$one" "one alone"
    report "$SCALE_N at once, each one's time" ms "$each" "each of the $SCALE_N" "$one" "one alone"
    awk -v n="$SCALE_N" -v t="$(stats "$ten" | cut -d' ' -f1)" -v o="$(stats "$one" | cut -d' ' -f1)" \
        'BEGIN { printf "  all %d at once against %d one after another (%d x one): %.2fx\n", n, n, n, t / (n * o) }'
    echo "  $((SCALE_ROUNDS * SCALE_N)) sessions at once: $fails failed or left something behind"
    cat "$sc_dir"/phases-ten-* >"$sc_dir/phases-ten"
    phase_table "one alone" "$sc_dir/phases-one" "at once" "$sc_dir/phases-ten"
    rm -f "$one" "$ten" "$each"
    ;; esac
    case " ${SCALE_PARTS:-once idle} " in *" idle "*)

    # --- idle ---
    echo "idle: sessions of coi run -- sleep, $SCALE_IDLE_S s idle after they settle; per session:"
    printf '  %-3s %9s %9s %9s %9s %9s %9s %9s %9s %-8s %s\n' n avail_MiB cg_MiB run_MiB sup_MiB run_ms sup_ms ctr_ms cpu_% nft host_forks
    for k in ${SCALE_IDLE_COUNTS:-1 5 10}; do
        sleep 5
        m0=$(sc_avail)
        names=() cpids=()
        for i in $(seq "$k"); do
            ws=$sc_dir/ws-idle-$i
            sc_ws "$ws"
            (cd "$ws" && exec "$COI" run --image "$IMAGE" -- sleep $((SCALE_IDLE_S + 300)) >"$ws.log" 2>&1) &
            sc_pids+=($!)
            cpids+=($!)
            names+=("coi-$(sc_hash "$ws")-1")
        done
        # each running, its supervisor up and its command started (bounded: 3 min in all)
        for n in "${names[@]}"; do
            for _ in $(seq 1800); do
                [ -n "$(sc_sup_pids "$n")" ] && incus exec "$n" -- sh -c 'ps -eo args 2>/dev/null || ps -o args' 2>/dev/null |
                    grep -qx "sleep $((SCALE_IDLE_S + 300))" && break
                sleep 0.1
            done
        done
        sleep 10 # the guests' boots settle
        a=() b=()
        for i in "${!names[@]}"; do
            a[i]="$(sc_cpu "${cpids[i]}") $(sc_cpu $(sc_sup_pids "${names[i]}")) $(sc_cg_cpu "${names[i]}")"
        done
        f0=$(sc_forks)
        sleep "$SCALE_IDLE_S"
        f1=$(sc_forks)
        m1=$(sc_avail)
        for i in "${!names[@]}"; do
            n=${names[i]}
            b[i]="$(sc_cpu "${cpids[i]}") $(sc_cpu $(sc_sup_pids "$n")) $(sc_cg_cpu "$n")"
            read -r r0 s0 c0 <<<"${a[i]}"
            read -r r1 s1 c1 <<<"${b[i]}"
            echo "$((r1 - r0)) $((s1 - s0)) $((c1 - c0)) $(sc_cg_mem "$n") $(sc_rss "${cpids[i]}") $(sc_rss $(sc_sup_pids "$n")) $(sc_nft "$n")"
        done >"$sc_dir/idle-$k.txt"
        awk -v k="$k" -v s="$SCALE_IDLE_S" -v dm=$((m0 - m1)) -v forks=$((f1 - f0)) '
            { r += $1; sp += $2; c += $3; cg += $4; rr += $5; sr += $6; nr += $7; nc += $8; ns += $9; n++ }
            END {
                printf "  %-3d %9.1f %9.1f %9.1f %9.1f %9.1f %9.1f %9.1f %9.3f %-8s %d\n", k, dm / 1024 / k,
                    cg / 1024 / n, rr / 1024 / n, sr / 1024 / n, r / n, sp / n, c / n, 100 * (r + sp) / n / (s * 1000),
                    sprintf("%.0f/%.0f/%.0f", nr / n, nc / n, ns / n), forks
            }' "$sc_dir/idle-$k.txt" | tee -a "$sc_dir/idle.sum"
        sc_cleanup
        left=$(sc_left "$sc_dir"/ws-idle-*)
        [ -z "$left" ] || { echo "  $k idle sessions left behind:"; sed 's/^/    /' <<<"$left"; fails=$((fails + 1)); }
    done
    echo "  (avail: the host's MemAvailable drop over the count; cg: the container's memory cgroup;" \
        "run/sup: RSS of coi run and of the supervisor with its DNS filter; *_ms: CPU time in the" \
        "${SCALE_IDLE_S} s; cpu_%: coi run + supervisor, of one core; nft: rules/chains/sets named for it;" \
        "host_forks: processes the host started in the window, which every supervisor hears of)"
    awk '{ printf "{\"name\":\"idle session cost\",\"sessions\":%d,\"avail_mib\":%s,\"cgroup_mib\":%s,\"run_rss_mib\":%s,\"sup_rss_mib\":%s,\"run_cpu_ms\":%s,\"sup_cpu_ms\":%s,\"container_cpu_ms\":%s,\"nft\":\"%s\",\"host_forks\":%s}\n",
        $1, $2, $3, $4, $5, $6, $7, $8, $10, $11 }' "$sc_dir/idle.sum" >>"$BENCH_JSON.lines"
    ;; esac
    rm -rf "$sc_dir"
    [ "$fails" = 0 ] || echo "scale: $fails failures or leftovers at once (above)"
) fi
