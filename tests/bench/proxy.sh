#!/bin/sh
# Proxy benchmark: the same tiny backend (nginx returning a 12-byte body)
# reached directly, through Parley, through nginx (proxy_pass) and through
# nghttpx (and, for HTTP/1.1 c50 and h2c c10 m10, through Parley with its
# upstream on libcurl, `client: curl`, to show what the native client buys), loaded with h2load (HTTP/2: -c10 -m10 and -c1 -m1, cleartext and
# TLS; HTTP/1.1: --h1 -c50 and -c1). The proxy under test runs pinned to
# CPU 0; the backend and the load generator share CPU 1. Every scenario
# runs ROUNDS times, interleaving the targets; medians of req/s and of p99
# latency are reported, with ratios against nginx and nghttpx from the same
# rounds. Then memory: Parley's RSS with 10,000 idle HTTP/2 connections and
# its peak RSS with 10,000 concurrent streams.
#
# usage: tests/bench/proxy.sh [BUILDDIR]   (default build; needs root for apt)
# env:   ROUNDS (3), DURATION (4s per run), SKIP_MEMORY=1, SKIP_THROUGHPUT=1,
#        SCENARIOS (a subset of "h1-c50 h1-c1 h2c-c10m10 h2c-c1m1 h2tls-c10m10")
set -eu
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
BUILDDIR=${1:-build}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-4}
PARLEY="$ROOT/$BUILDDIR/parley"

tests/tools/apt-ensure nginx-light nghttp2-proxy nghttp2-client openssl python3 >&2
[ -x "$PARLEY" ] || { echo "build Parley first: make build" >&2; exit 1; }
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

. tests/bench/proxy_lib.sh
WORK=$(mktemp -d "${TMPDIR:-/tmp}/parley-bench.XXXXXX")
PIDS=""
cleanup() {
    for p in $PIDS; do kill "$p" 2>/dev/null || true; done
    for p in $PIDS; do wait "$p" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

wait_port() {
    python3 - "$1" <<'PY'
import socket, sys, time
deadline = time.monotonic() + 30
while True:
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1).close()
        break
    except OSError:
        if time.monotonic() > deadline:
            sys.exit("port %s never opened" % sys.argv[1])
        time.sleep(0.05)
PY
}
start() { # start CPU NAME COMMAND...: runs in the background, remembers the PID
    cpu=$1; name=$2; shift 2
    taskset -c "$cpu" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
    PIDS="$PIDS $!"
    eval "PID_$name=$!"
}

make_cert "$WORK"

BE=$(port); BE2=$(port)
P_H=$(port); P_T=$(port); P_ADMIN=$(port); C_H=$(port); C_ADMIN=$(port)
N_H=$(port); N_C=$(port); N_T=$(port)
X_H=$(port); X_T=$(port)

# ---- the backend: nginx answering every request itself ----
mkdir -p "$WORK/be" "$WORK/ng"
backend_conf "$WORK/be" "$BE" "$BE2"
start 1 backend nginx -c "$WORK/be/nginx.conf" -e "$WORK/be/error.log"

# ---- Parley ----
parley_conf "$WORK/parley.yaml" "$P_H" "$P_T" "$P_ADMIN" "$BE" auto "$WORK"
start 0 parley "$PARLEY" serve -c "$WORK/parley.yaml"
parley_conf "$WORK/parley-curl.yaml" "$C_H" "" "$C_ADMIN" "$BE" curl "$WORK"
start 0 parleycurl "$PARLEY" serve -c "$WORK/parley-curl.yaml"

# ---- nginx as a proxy ----
nginx_proxy_conf "$WORK/ng" "$BE" "$N_H" "$N_C" "$N_T" "$WORK" on
start 0 nginxproxy nginx -c "$WORK/ng/nginx.conf" -e "$WORK/ng/error.log"

# ---- nghttpx ----
start 0 nghttpx nghttpx --workers=1 --log-level=ERROR \
    "--frontend=127.0.0.1,$X_H;no-tls" "--frontend=127.0.0.1,$X_T" \
    "--backend=127.0.0.1,$BE" --backend-keep-alive-timeout=60s \
    --frontend-http2-max-concurrent-streams=1000 \
    "$WORK/key.pem" "$WORK/cert.pem"

for p in $BE $BE2 $P_H $P_T $C_H $N_H $N_C $N_T $X_H $X_T; do wait_port "$p"; done

# The process doing the target's work: Parley itself, the nginx and
# nghttpx workers (children of their masters), the backend for "direct".
pid_of() {
    case $1 in
    parley) echo "$PID_parley" ;;
    parley-curl) echo "$PID_parleycurl" ;;
    nginx) pgrep -P "$(cat "$WORK/ng/nginx.pid")" | head -1 ;;
    nghttpx) pgrep -P "$PID_nghttpx" | head -1 ;;
    direct) pgrep -P "$(cat "$WORK/be/nginx.pid")" | head -1 ;;
    esac
}
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# run NAME TARGET PROTO URL H2LOAD-ARGS: one measurement, one result line.
# Besides req/s and p99 it records the target's CPU time per request (user
# + system, from /proc over the warm-up and the run): what the proxy itself
# costs, whichever core is the bottleneck.
run() {
    log="$WORK/run.log"
    rm -f "$log"
    tpid=$(pid_of "$2")
    t0=$(ticks "$tpid"); w0=$(date +%s.%N)
    out=$(taskset -c 1 h2load $5 -D "$DURATION" --warm-up-time=1 --log-file="$log" "$4" 2>&1) || true
    t1=$(ticks "$tpid"); w1=$(date +%s.%N)
    rps=$(printf '%s\n' "$out" | sed -n 's/^finished in [^,]*, \([0-9.]*\) req\/s.*/\1/p')
    failed=$(printf '%s\n' "$out" | sed -n 's/^requests: .* \([0-9]*\) failed.*/\1/p')
    p99=$(python3 - "$log" <<'PY'
import sys
try:
    d = sorted(int(l.split()[2]) for l in open(sys.argv[1]) if l.strip())
    print("%.3f" % (d[int(len(d) * 0.99) - 1] / 1000.0) if d else "nan")
except OSError:
    print("nan")
PY
)
    cpu=$(awk -v t="$((t1 - t0))" -v hz="$(getconf CLK_TCK)" -v w0="$w0" -v w1="$w1" \
          -v rps="${rps:-0}" 'BEGIN { if (rps > 0) printf "%.1f", t / hz / (w1 - w0) / rps * 1e6; else print "nan" }')
    echo "$1 $2 $3 ${rps:-0} $p99 ${failed:-?} $cpu" >>"$WORK/results"
}

SCEN=${SCENARIOS:-"h1-c50 h1-c1 h2c-c10m10 h2c-c1m1 h2tls-c10m10"}
args_of() {
    case $1 in
    h1-c50) echo "--h1 -c50 -m1" ;;
    h1-c1) echo "--h1 -c1 -m1" ;;
    h2c-c10m10 | h2tls-c10m10) echo "-c10 -m10" ;;
    h2c-c1m1) echo "-c1 -m1" ;;
    esac
}
url_of() { # url_of SCENARIO TARGET
    if [ "$2" = parley-curl ]; then
        case $1 in h1-c50 | h2c-c10m10) echo "http://127.0.0.1:$C_H/" ;; *) echo "" ;; esac
        return
    fi
    case $1 in
    h1-*) case $2 in direct) echo "http://127.0.0.1:$BE/";; parley) echo "http://127.0.0.1:$P_H/";;
          nginx) echo "http://127.0.0.1:$N_H/";; nghttpx) echo "http://127.0.0.1:$X_H/";; esac ;;
    h2c-*) case $2 in direct) echo "http://127.0.0.1:$BE2/";; parley) echo "http://127.0.0.1:$P_H/";;
          nginx) echo "http://127.0.0.1:$N_C/";; nghttpx) echo "http://127.0.0.1:$X_H/";; esac ;;
    h2tls-*) case $2 in direct) echo "";; parley) echo "https://127.0.0.1:$P_T/";;
          nginx) echo "https://127.0.0.1:$N_T/";; nghttpx) echo "https://127.0.0.1:$X_T/";; esac ;;
    esac
}

: >"$WORK/results"
r=1
[ "${SKIP_THROUGHPUT:-0}" = 1 ] && r=$((ROUNDS + 1))
while [ "$r" -le "$ROUNDS" ]; do
    for s in $SCEN; do
        for t in direct parley parley-curl nginx nghttpx; do
            u=$(url_of "$s" "$t")
            [ -n "$u" ] || continue
            run "$s" "$t" "$r" "$u" "$(args_of "$s")"
        done
    done
    echo "round $r of $ROUNDS done" >&2
    r=$((r + 1))
done

[ "${SKIP_THROUGHPUT:-0}" = 1 ] || {
echo "## Throughput and latency (median of $ROUNDS runs of ${DURATION}s each)"
python3 - "$WORK/results" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
data = {}
for s, t, r, rps, p99, failed, cpu in rows:
    data.setdefault(s, {}).setdefault(t, []).append((float(rps), float(p99), failed, float(cpu)))
print("| scenario | target | req/s (median) | p99 ms (median) | vs nginx | vs nghttpx | CPU µs/req (median) | failed |")
print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
for s in data:
    med = {t: (statistics.median(x[0] for x in v), statistics.median(x[1] for x in v),
               ",".join(x[2] for x in v), statistics.median(x[3] for x in v))
           for t, v in data[s].items()}
    for t, (rps, p99, failed, cpu) in med.items():
        vn = "%.2f" % (rps / med["nginx"][0]) if med.get("nginx", (0,))[0] else "-"
        vx = "%.2f" % (rps / med["nghttpx"][0]) if med.get("nghttpx", (0,))[0] else "-"
        print(f"| {s} | {t} | {rps:,.0f} | {p99:.2f} | {vn} | {vx} | {cpu:.1f} | {failed} |")
PY
}

[ "${SKIP_MEMORY:-0}" = 1 ] && exit 0

rss() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
hwm() { awk '/^VmHWM/ {print $2}' "/proc/$1/status"; }

echo
echo "## Memory"
echo "| server | load | RSS before | RSS with the load | per connection or result |"
echo "| --- | --- | ---: | ---: | --- |"
# 10,000 idle HTTP/2 connections (client preface and SETTINGS sent, then idle).
for t in parley nginx nghttpx; do
    case $t in parley) pid=$PID_parley; p=$P_H;; nginx) pid=$(cat "$WORK/ng/nginx.pid"); p=$N_C;;
               nghttpx) pid=$PID_nghttpx; p=$X_H;; esac
    # nginx and nghttpx run a worker under a master: measure the worker.
    [ "$t" = parley ] || pid=$(pgrep -P "$pid" | head -1)
    before=$(rss "$pid")
    python3 - "$p" "$pid" "$before" "$t" <<'PY'
import socket, sys, time
port, pid, before, name = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
hello = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"
socks = []
for i in range(10000):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(hello)
    socks.append(s)
for s in socks:  # every connection got its server SETTINGS: it was set up
    s.settimeout(10)
    s.recv(4096)
def rss():
    for l in open(f"/proc/{pid}/status"):
        if l.startswith("VmRSS"):
            return int(l.split()[1])
time.sleep(1)  # let the server settle; a measurement, not a synchronisation
after = rss()
print(f"| {name} | 10,000 idle h2c connections | {before/1024:.1f} MiB | {after/1024:.1f} MiB"
      f" | {(after-before)*1024/10000:,.0f} bytes per connection |")
for s in socks:
    s.close()
PY
done

# 10,000 concurrent streams: 100 connections x 100 streams. The upstream
# is HTTP/1.1 through the native client: one upstream connection per
# stream in flight.
P_S=$(port); P_SA=$(port)
cat >"$WORK/streams.yaml" <<CONF
workers: 1
log: {level: warn}
access_log: {path: ''}
listen: [{address: 127.0.0.1:$P_S}]
limits: {h2_max_concurrent_streams: 100, connections: 100000}
routes: [{upstream: "http://127.0.0.1:$BE"}]
CONF
start 0 pstreams "$PARLEY" serve -c "$WORK/streams.yaml"
wait_port "$P_S"
before=$(rss "$PID_pstreams")
taskset -c 1 h2load -c100 -m100 -n 50000 "http://127.0.0.1:$P_S/" >"$WORK/streams.out" 2>&1 || true
echo "| parley | 10,000 concurrent streams (h2load -c100 -m100 -n50000) | $(echo "$before" | awk '{printf "%.1f", $1/1024}') MiB | peak $(hwm "$PID_pstreams" | awk '{printf "%.1f", $1/1024}') MiB | $(sed -n 's/^finished in [^,]*, \([0-9.]*\) req\/s.*/\1 req\/s/p' "$WORK/streams.out"); $(sed -n 's/^requests: .*, \([0-9]*\) succeeded, \([0-9]*\) failed.*/\1 succeeded, \2 failed/p' "$WORK/streams.out") |"
