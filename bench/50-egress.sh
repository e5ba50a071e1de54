# SPDX-License-Identifier: MIT
# The credential proxy (egress): what it adds to a request and to the first byte of a stream, as
# ratios against the same client talking straight to the same fake upstream (loopback, TLS both
# ways, interleaved), and its memory with 50 concurrent streams. BENCH_EGRESS=0 skips it.
# Runs alone too: BENCH_ROOT=. COI_BUILD=build/release bash -c '. bench/lib.sh; . bench/50-egress.sh'
if [ "${BENCH_EGRESS:-1}" != 0 ]; then
    eg_dir=$(mktemp -d)
    eg_pids=()
    eg_t=$COI_BUILD/tools
    eg_wait_port() {
        for _ in $(seq 50); do
            grep -q '^port ' "$1" 2>/dev/null && { awk '/^port /{print $2; exit}' "$1"; return 0; }
            sleep 0.1
        done
        return 1
    }
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$eg_dir/ca.key" \
        -out "$eg_dir/ca.pem" -days 2 -subj "/CN=coi bench CA" 2>/dev/null
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$eg_dir/up.key" \
        -out "$eg_dir/up.csr" -subj "/CN=api.test" 2>/dev/null
    printf 'subjectAltName=DNS:api.test\n' >"$eg_dir/ext"
    openssl x509 -req -in "$eg_dir/up.csr" -CA "$eg_dir/ca.pem" -CAkey "$eg_dir/ca.key" \
        -CAcreateserial -out "$eg_dir/up.pem" -days 2 -extfile "$eg_dir/ext" 2>/dev/null
    "$eg_t/fake-upstream" --cert "$eg_dir/up.pem" --key "$eg_dir/up.key" --lifetime 900 \
        >"$eg_dir/up.out" 2>&1 &
    eg_pids+=($!)
    eg_up=$(eg_wait_port "$eg_dir/up.out")
    eg_ph=sk-ant-coi1111111111111111111111111111111111111111
    eg_proxy() { # NAME: a proxy for api.test; its pid in eg_px_pid, port in eg_px
        "$eg_t/egress-proxy" --listen 127.0.0.1:0 --ca-out "$eg_dir/$1-ca.pem" --cafile "$eg_dir/ca.pem" \
            --connect-to "api.test=127.0.0.1:$eg_up" --lifetime 900 --secret anthropic --host api.test \
            --header x-api-key --placeholder $eg_ph --value REAL-KEY >"$eg_dir/$1.out" 2>/dev/null &
        eg_px_pid=$!
        eg_pids+=($eg_px_pid)
        eg_px=$(eg_wait_port "$eg_dir/$1.out")
    }
    eg_proxy p
    eg_direct=(--connect "127.0.0.1:$eg_up" --host api.test --cafile "$eg_dir/ca.pem"
        --header "x-api-key: REAL-KEY")
    eg_through=(--connect "127.0.0.1:$eg_px" --host api.test --cafile "$eg_dir/p-ca.pem"
        --header "x-api-key: $eg_ph")
    echo "egress proxy (loopback; medians of $BENCH_N interleaved runs, each the median of its requests):"
    for mode in request:200 connect:30 first-byte:30; do
        m=${mode%%:*} k=${mode##*:}
        : >"$eg_dir/a" && : >"$eg_dir/b"
        for _ in $(seq "$BENCH_N"); do
            "$eg_t/egress-bench" "${eg_through[@]}" "$m" "$k" | awk '{print $2 / 1000}' >>"$eg_dir/a"
            "$eg_t/egress-bench" "${eg_direct[@]}" "$m" "$k" | awk '{print $2 / 1000}' >>"$eg_dir/b"
        done
        case $m in
        request) name="egress: keep-alive request" ;;
        connect) name="egress: request on a new connection" ;;
        first-byte) name="egress: first streamed byte" ;;
        esac
        report "$name" ms "$eg_dir/a" "through the proxy" "$eg_dir/b" "straight to upstream"
    done
    # memory: a fresh proxy's peak RSS after 50 concurrent 2 s streams, against its idle RSS
    eg_proxy m
    eg_idle=$(awk '/^VmRSS:/{print $2}' "/proc/$eg_px_pid/status")
    eg_ok=$("$eg_t/egress-bench" --connect "127.0.0.1:$eg_px" --host api.test --cafile "$eg_dir/m-ca.pem" \
        --header "x-api-key: $eg_ph" streams 50 | awk '{print $2}')
    eg_peak=$(awk '/^VmHWM:/{print $2}' "/proc/$eg_px_pid/status")
    printf '%-34s %s of 50 streams whole; RSS idle %s KiB, peak %s KiB (%s KiB per stream)\n' \
        "egress: memory, 50 streams" "$eg_ok" "$eg_idle" "$eg_peak" "$(((eg_peak - eg_idle) / 50))"
    printf '{"name":"egress: memory, 50 streams","unit":"KiB","streams_ok":%s,"idle":%s,"peak":%s,"per_stream":%s}\n' \
        "$eg_ok" "$eg_idle" "$eg_peak" "$(((eg_peak - eg_idle) / 50))" >>"$BENCH_JSON.lines"
    for p in "${eg_pids[@]}"; do kill "$p" 2>/dev/null; done
    wait "${eg_pids[@]}" 2>/dev/null
    rm -rf "$eg_dir"
fi
