#!/bin/sh
# Instructions per proxied request, counted by callgrind: Parley, nginx
# (proxy_pass) and nghttpx in front of the same tiny backend, each loaded
# twice (N1 and N2 requests); (I(N2) - I(N1)) / (N2 - N1) is what one more
# request costs, without start-up and shutdown. Counts do not depend on
# what else the machine runs, so this is the figure to compare changes
# with on a shared machine (tests/bench/proxy.sh measures time).
#
# usage: tests/bench/proxy_instructions.sh [BUILDDIR]   (default build)
# env:   N1 (5000), N2 (25000), SCENARIOS ("h1-c50 h2c-c10m10 h2tls-c10m10"),
#        TARGETS ("parley parley-curl nginx nghttpx")
set -eu
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
PARLEY="$ROOT/${1:-build}/parley"
N1=${N1:-5000}
N2=${N2:-25000}
SCENARIOS=${SCENARIOS:-"h1-c50 h2c-c10m10 h2tls-c10m10"}
TARGETS=${TARGETS:-"parley parley-curl nginx nghttpx"}

tests/tools/apt-ensure nginx-light nghttp2-proxy nghttp2-client openssl valgrind python3 >&2
[ -x "$PARLEY" ] || { echo "build Parley first: make build" >&2; exit 1; }

. tests/bench/proxy_lib.sh
WORK=$(mktemp -d "${TMPDIR:-/tmp}/parley-instr.XXXXXX")
BE_PID=""
cleanup() {
    [ -n "$BE_PID" ] && kill "$BE_PID" 2>/dev/null && wait "$BE_PID" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

wait_url() { # wait_url URL: until the proxy answers (valgrind starts slowly)
    i=0
    until curl -sk -o /dev/null "$1"; do
        i=$((i + 1))
        [ "$i" -lt 600 ] || { echo "no answer from $1" >&2; exit 1; }
        sleep 0.1
    done
}

make_cert "$WORK"
BE=$(port); BE2=$(port); H=$(port); C=$(port); T=$(port); ADMIN=$(port)

mkdir -p "$WORK/be" "$WORK/ng"
backend_conf "$WORK/be" "$BE" "$BE2"
nginx -c "$WORK/be/nginx.conf" -e "$WORK/be/error.log" &
BE_PID=$!

parley_conf "$WORK/parley.yaml" "$H" "$T" "$ADMIN" "$BE" auto "$WORK"
parley_conf "$WORK/parley-curl.yaml" "$H" "$T" "$ADMIN" "$BE" curl "$WORK"
# nginx in one process (no master) so that callgrind sees the worker.
nginx_proxy_conf "$WORK/ng" "$BE" "$H" "$C" "$T" "$WORK" off

url() { # url SCENARIO TARGET
    case $1 in
    h1-*) echo "http://127.0.0.1:$H/" ;;
    h2c-*) [ "$2" = nginx ] && echo "http://127.0.0.1:$C/" || echo "http://127.0.0.1:$H/" ;;
    h2tls-*) echo "https://127.0.0.1:$T/" ;;
    esac
}
args() {
    case $1 in h1-c50) echo "--h1 -c50 -m1" ;; *) echo "-c10 -m10" ;; esac
}

# count TARGET SCENARIO N: total instructions of the target serving N requests
count() {
    out="$WORK/cg.$1.$2.$3"
    rm -f "$out".*
    case $1 in
    parley) valgrind --tool=callgrind --callgrind-out-file="$out.%p" "$PARLEY" serve \
                -c "$WORK/parley.yaml" >"$WORK/log" 2>&1 & ;;
    parley-curl) valgrind --tool=callgrind --callgrind-out-file="$out.%p" "$PARLEY" serve \
                -c "$WORK/parley-curl.yaml" >"$WORK/log" 2>&1 & ;;
    nginx) valgrind --tool=callgrind --callgrind-out-file="$out.%p" nginx \
                -c "$WORK/ng/nginx.conf" -e "$WORK/ng/error.log" >"$WORK/log" 2>&1 & ;;
    nghttpx) valgrind --tool=callgrind --trace-children=yes --callgrind-out-file="$out.%p" \
                nghttpx --workers=1 --log-level=ERROR "--frontend=127.0.0.1,$H;no-tls" \
                "--frontend=127.0.0.1,$T" "--backend=127.0.0.1,$BE" \
                --backend-keep-alive-timeout=60s --frontend-http2-max-concurrent-streams=1000 \
                --no-ocsp "$WORK/key.pem" "$WORK/cert.pem" >"$WORK/log" 2>&1 & ;;
    esac
    vp=$!
    u=$(url "$2" "$1")
    wait_url "http://127.0.0.1:$H/"
    h2load -n "$3" $(args "$2") "$u" >"$WORK/h2load.out" 2>&1
    grep -q "$3 succeeded, 0 failed" "$WORK/h2load.out" ||
        { echo "$1 $2: requests failed" >&2; cat "$WORK/h2load.out" >&2; }
    case $1 in nginx) kill -QUIT "$vp" ;; *) kill -TERM "$vp" ;; esac
    wait "$vp" 2>/dev/null || true
    # nghttpx's worker may write its counts after the master has gone.
    while pgrep -f "callgrind-out-file=$out" >/dev/null; do sleep 0.1; done
    # nghttpx's master and worker write one file each; the sum is the cost.
    total=0
    for f in "$out".*; do
        n=$(callgrind_annotate "$f" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
        total=$((total + ${n:-0}))
    done
    echo "$total"
}

echo "| scenario | target | instructions per request |"
echo "| --- | --- | ---: |"
for s in $SCENARIOS; do
    for t in $TARGETS; do
        [ "$t" = parley-curl ] && [ "$s" = h2tls-c10m10 ] && continue
        a=$(count "$t" "$s" "$N1")
        b=$(count "$t" "$s" "$N2")
        echo "| $s | $t | $(( (b - a) / (N2 - N1) )) |"
    done
done
