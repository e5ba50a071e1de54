# SPDX-License-Identifier: MIT
# The DNS filter (bench/dns-filter.sh, in a network namespace of its own): the latency it adds
# per query, as the ratio of its median to the test DNS server's asked directly (interleaved
# pairs: a new allowed name each time, the same allowed name, an unlisted name); then bursts of
# 5,000 queries (500 in flight) of unlisted and of allowed names: every one answered, none
# lost, no unlisted name upstream, the set holding the allowed addresses only, and the filter's
# peak memory before and after. Needs root; BENCH_DNS=0 skips it.
if [ "${BENCH_DNS:-1}" != 0 ] && [ "$(id -u)" = 0 ]; then
    echo "DNS filter (bench/dns-filter.sh, 500 pairs, bursts of 5000):"
    unshare -n bash "$BENCH_ROOT/bench/dns-filter.sh" "$COI_BUILD/tools" 500 5000 |
        while read -r kind name rest; do
            set -- $rest
            if [ "$kind" = pair ]; then
                printf '    %-16s direct %5s us, through the filter %5s us: %sx (lost %s)\n' \
                    "$name" "$2" "$4" "$6" "$8"
                printf '{"name":"dns %s","unit":"us","a":{"label":"filter","median":%s},"b":{"label":"direct","median":%s},"ratio":%s,"target":null}\n' \
                    "$name" "$4" "$2" "$6" >>"$BENCH_JSON.lines"
            else
                printf '    burst %-10s %s\n' "$name" "$rest"
            fi
        done
fi
