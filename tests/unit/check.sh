# SPDX-License-Identifier: MIT
# check.sh: the TAP helper of the command-line tests (*.t here): check DESC EXPECTED_RC REGEX
# CMD... runs CMD and passes when it exits EXPECTED_RC with output (stdout and stderr) matching
# REGEX; ok DESC CMD... passes when CMD succeeds. Counts in n, failures in failed.
n=0 failed=0
check() { # DESC EXPECTED_RC REGEX CMD...
    local desc=$1 want=$2 re=$3 out rc
    shift 3
    out=$("$@" 2>&1) && rc=0 || rc=$?
    n=$((n + 1))
    if [ "$rc" = "$want" ] && [[ "$out" =~ $re ]]; then echo "ok $n - $desc"; else
        echo "not ok $n - $desc"; failed=1
        echo "# exit $rc (wanted $want); output: $(head -c 800 <<<"$out" | sed '2,$s/^/# /')"
    fi
}
ok() { # DESC CMD...
    local desc=$1
    shift
    n=$((n + 1))
    if "$@"; then echo "ok $n - $desc"; else echo "not ok $n - $desc"; failed=1; fi
}
