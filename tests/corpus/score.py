#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# score.py: what the monitor made of the attack corpus. Reads the techniques' labels (their
# "# level:" line), the driver's log (when each ran) and the audit log(s), and prints one JSON
# line per technique: the level it must reach, the highest level it reached, the rules that
# fired, and in a session of its own (--full) whether and how fast it was contained: from
# the technique's first action (its t0) to the audit line that froze or removed the container.
#   score.py quick CORPUS_DIR OUT_DIR AUDIT.jsonl
#   score.py full CORPUS_DIR RESULTS_DIR        (RESULTS_DIR/<technique>/{audit.jsonl,t0,...})
#   score.py summary RESULTS.jsonl              (detection rate per level, p50/p95)
import calendar, json, os, re, sys, time

LEVELS = ["info", "warning", "high", "critical"]


def rank(level):
    return LEVELS.index(level) if level in LEVELS else -1


def label(corpus, name):
    text = open(os.path.join(corpus, "attack", name + ".sh")).read()
    level = re.search(r"^# level: (\w+)", text, re.M).group(1)
    title = re.search(r"^# technique: (.*)$", text, re.M).group(1)
    return level, title


def ns_of(ts):
    """RFC 3339 with nanoseconds, UTC -> ns since the epoch."""
    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z", ts)
    secs = calendar.timegm(time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S"))
    frac = (m.group(2) or "0").ljust(9, "0")[:9]
    return secs * 10**9 + int(frac)


def findings(path):
    out = []
    if not os.path.exists(path):
        return out
    for line in open(path):
        try:
            j = json.loads(line)
        except ValueError:
            continue
        if "level" not in j or (j.get("rule") or "").startswith("nft-"):
            continue
        j["ns"] = ns_of(j["timestamp"])
        out.append(j)
    return out


def judge(name, level, title, lines, t0=None):
    real = [j for j in lines if j["level"] != "info"]
    top = max((j["level"] for j in real), key=rank, default="none")
    r = {"technique": name, "title": title, "must": level, "got": top,
         "detected": rank(top) >= rank(level),
         "rules": sorted({j.get("rule", "?") for j in real})}
    if t0 is not None:
        acts = [j for j in real if (j["action"] in ("paused", "killed") if rank(level) >= 2
                                    else rank(j["level"]) >= rank(level))]
        first = min(acts, key=lambda j: j["ns"], default=None)
        r["contained"] = bool(first) and first["action"] in ("paused", "killed")
        if first:
            r["latency_ms"] = round((first["ns"] - t0) / 1e6, 1)
            r["action"] = first["action"]
    return r


def quick(corpus, out, audit):
    log = [l.split() for l in open(os.path.join(out, "log"))]
    starts = [(w[1], int(w[2])) for w in log if w[0] == "start"]
    done = [int(w[1]) for w in log if w[0] == "done"]
    end_all = done[0] if done else None
    lines = findings(audit)
    for i, (name, start) in enumerate(starts):
        stop = starts[i + 1][1] if i + 1 < len(starts) else (end_all or 1 << 62)
        level, title = label(corpus, name)
        mine = [j for j in lines if start <= j["ns"] < stop]
        print(json.dumps(judge(name, level, title, mine)))


def full(corpus, results):
    for name in sorted(os.listdir(results)):
        d = os.path.join(results, name)
        if not os.path.isdir(d) or not os.path.exists(os.path.join(corpus, "attack", name + ".sh")):
            continue
        level, title = label(corpus, name)
        t0p = os.path.join(d, "t0")
        t0 = int(open(t0p).read().strip()) if os.path.exists(t0p) else None
        r = judge(name, level, title, findings(os.path.join(d, "audit.jsonl")), t0 if t0 else 0)
        if not t0:
            r.pop("latency_ms", None)
            r["note"] = "no t0: the technique did not reach its first action"
        print(json.dumps(r))


def pct(xs, p):
    xs = sorted(xs)
    if not xs:
        return None
    k = (len(xs) - 1) * p / 100.0
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return round(xs[lo] + (xs[hi] - xs[lo]) * (k - lo), 1)


def summary(path):
    rs = [json.loads(l) for l in open(path) if l.strip()]
    print("| level | techniques | detected | rate | contained | p50 ms | p95 ms |")
    print("|---|---|---|---|---|---|---|")
    for level in ("critical", "high", "warning"):
        mine = [r for r in rs if r["must"] == level]
        if not mine:
            continue
        det = [r for r in mine if r["detected"]]
        lat = [r["latency_ms"] for r in det if "latency_ms" in r]
        cont = [r for r in mine if r.get("contained")]
        print("| %s | %d | %d | %.0f%% | %s | %s | %s |" % (
            level, len(mine), len(det), 100.0 * len(det) / len(mine),
            len(cont) if level != "warning" else "-", pct(lat, 50), pct(lat, 95)))
    missed = [r for r in rs if not r["detected"]]
    if missed:
        print("\nmissed: " + ", ".join("%s (must %s, got %s)" % (r["technique"], r["must"], r["got"])
                                     for r in missed))


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "quick":
        quick(sys.argv[2], sys.argv[3], sys.argv[4])
    elif mode == "full":
        full(sys.argv[2], sys.argv[3])
    else:
        summary(sys.argv[2])
