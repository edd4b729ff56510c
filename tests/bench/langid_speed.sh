#!/bin/sh
# Speed of Parley's detector against CLD2 on a shared machine: ROUNDS rounds,
# each running Parley, Parley restricted to the 22 languages of the goal
# (read once, as ELD's subset) and CLD2 (one core, taskset) on the sentences
# and the chat30 inputs of tests/bench/langid.sh, and the medians of the
# per-round ratios Parley / CLD2 of messages per second, by CPU time and by
# wall clock.
# Runs of the two next to each other see the same load, so their ratio
# varies far less than either figure.
#
#   tests/bench/langid_speed.sh [BUILDDIR] [ROUNDS]   (defaults: build, 7)
#
# Needs tests/bench/results/data from a run of tests/bench/langid.sh.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
. "$root/tests/bench/langid_lib.sh"
rounds=${2:-7}

cc -O2 -std=c17 -I"$root/include" "$bench/parley_langid.c" "$build/libparley.a" \
    $(pkg-config --libs icu-uc icu-i18n) -lm -o "$scratch/parley_langid"
g++ -O2 "$bench/cld2_langid.cc" -lcld2 -o "$scratch/cld2_langid"

field() { tr ' ' '\n' | sed -n "s/^$1=//p"; }
for b in sentences chat30; do
    for i in $(seq "$rounds"); do
        p=$(taskset -c "$core" "$scratch/parley_langid" "$data/$b.txt" "$root/locales" 2>&1 >/dev/null)
        r=$(taskset -c "$core" "$scratch/parley_langid" "$data/$b.txt" "$root/locales" "$goal" \
            2>&1 >/dev/null)
        c=$(taskset -c "$core" "$scratch/cld2_langid" "$data/$b.txt" 2>&1 >/dev/null)
        echo "$b $(echo "$p" | field cpu_msgs_per_s) $(echo "$c" | field cpu_msgs_per_s)" \
            "$(echo "$p" | field msgs_per_s) $(echo "$c" | field msgs_per_s)"
        echo "$b,22-only $(echo "$r" | field cpu_msgs_per_s) $(echo "$c" | field cpu_msgs_per_s)" \
            "$(echo "$r" | field msgs_per_s) $(echo "$c" | field msgs_per_s)"
    done
done | python3 -c '
import statistics, sys
rows = {}
for line in sys.stdin:
    b, *v = line.split()
    b = b.replace(",", ", ")
    rows.setdefault(b, []).append([float(x) for x in v])
print("| input | parley msgs/s (CPU) | cld2 msgs/s (CPU) | ratio (CPU) | ratio (wall) | ratio range (CPU) |")
print("| --- | ---: | ---: | ---: | ---: | --- |")
for b, r in rows.items():
    cpu = [p / c for p, c, _, _ in r]
    wall = [p / c for _, _, p, c in r]
    print(f"| {b} | {statistics.median(x[0] for x in r):,.0f} | {statistics.median(x[1] for x in r):,.0f} "
          f"| {statistics.median(cpu):.2f} | {statistics.median(wall):.2f} "
          f"| {min(cpu):.2f}-{max(cpu):.2f} |")
print(f"\n{len(next(iter(rows.values())))} rounds, medians per column.")
'
