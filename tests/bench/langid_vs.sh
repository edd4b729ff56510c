#!/bin/sh
# Parley against CLD2 in one process (tests/bench/langid_vs.cc): the two
# detectors take turns on chunks of 2,000 messages (who goes first
# alternates), so the load of other programs on the core falls on both
# alike, which separate processes (langid_speed.sh) cannot promise on a
# shared machine, and each finds its tables partly evicted by the other, as
# between the other work of a gateway. One row also gives each the caches
# for a whole pass over the input. Prints a table of the median of ROUNDS
# per-round ratios, Parley's speed over CLD2's by CPU time, on chat30 and
# sentences: on the text of all 77 test languages and on that of the 22
# languages of the goal only, with Parley choosing among all its languages
# and among those 22.
#
#   tests/bench/langid_vs.sh [BUILDDIR] [ROUNDS]   (defaults: build, 9)
#
# Needs tests/bench/results/data from a run of tests/bench/langid.sh.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
. "$root/tests/bench/langid_lib.sh"
rounds=${2:-9}

"$root/tests/tools/apt-ensure" libcld2-dev g++
g++ -O2 -std=c++17 -I"$root/include" "$root/tests/bench/langid_vs.cc" "$build/libparley.a" \
    $(pkg-config --libs icu-uc icu-i18n) -lcld2 -lm -o "$scratch/langid_vs"
# The lines of the 22 languages, by the gold labels next to each input.
for b in chat30 sentences; do
    paste -d '\t' "$data/$b.gold" "$data/$b.txt" |
        awk -F '\t' -v g="$goal" 'BEGIN { n = split(g, l, ","); for (i = 1; i <= n; i++) keep[l[i]] = 1 }
            keep[$1] { sub(/^[^\t]*\t/, ""); print }' > "$scratch/$b.22.txt"
done

field() { tr ' ' '\n' | sed -n "s/^$1=//p"; }
# row INPUT_LABEL FILE PARLEY_LABEL ONLY CHUNK
row() {
    line=$(taskset -c "$core" "$scratch/langid_vs" "$2" "$root/locales" "$4" "$rounds" "$5" |
        tail -n 1)
    printf '| %s | %s | %s | %.3f | %.2f–%.2f | %.0f | %.0f |\n' "$1" "$3" "$6" \
        "$(echo "$line" | field median_speed)" "$(echo "$line" | field min)" \
        "$(echo "$line" | field max)" "$(echo "$line" | field parley_msgs_per_s)" \
        "$(echo "$line" | field cld2_msgs_per_s)"
}
echo "| input | Parley chooses among | chunk | Parley / CLD2 speed (median) | range | Parley msgs/s | CLD2 msgs/s |"
echo "| --- | --- | --- | ---: | --- | ---: | ---: |"
for b in chat30 sentences; do
    row "$b, 77 languages" "$data/$b.txt" "all" "" 2000 2000
    row "$b, 77 languages" "$data/$b.txt" "the 22" "$goal" 2000 2000
    row "$b, the 22 languages" "$scratch/$b.22.txt" "all" "" 2000 2000
    row "$b, the 22 languages" "$scratch/$b.22.txt" "the 22" "$goal" 2000 2000
done
n=$(wc -l < "$data/chat30.txt")
row "chat30, 77 languages" "$data/chat30.txt" "all" "" "$n" "whole input"
