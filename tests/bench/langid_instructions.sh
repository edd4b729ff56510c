#!/bin/sh
# Instructions and simulated first-level data-cache misses per message for
# Parley and CLD2, counted by valgrind (callgrind's instruction count does
# not depend on the machine's load, unlike the timings of langid_speed.sh).
# Runs each driver (Parley also restricted to the 22 languages of the goal)
# on a 1-in-15 sample of the sentences and chat30 inputs
# (5,075 messages each) and on one message, and subtracts the second from
# the first, so start-up (mapping and checking the model) is left out.
#
#   tests/bench/langid_instructions.sh [BUILDDIR]   (after tests/bench/langid.sh)
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
. "$root/tests/bench/langid_lib.sh"

"$root/tests/tools/apt-ensure" valgrind libcld2-dev g++
cc -O2 -std=c17 -I"$root/include" "$bench/parley_langid.c" "$build/libparley.a" \
    $(pkg-config --libs icu-uc icu-i18n) -lm -o "$scratch/parley_langid"
g++ -O2 "$bench/cld2_langid.cc" -lcld2 -o "$scratch/cld2_langid"

# measure CMD...: "instructions D1-misses" of one run of CMD.
measure() {
    valgrind --tool=cachegrind --cache-sim=yes --cachegrind-out-file=/dev/null "$@" \
        2>&1 >/dev/null |
        awk '/ I +refs:/ {gsub(",", "", $4); i = $4}
             / D1 +misses:/ {gsub(",", "", $4); m = $4} END {print i, m}'
}

# row INPUT DETECTOR MESSAGES "FULL" "ONE": one table row, start-up subtracted.
row() {
    echo "$4 $5" | awk -v b="$1" -v d="$2" -v n="$3" \
        '{printf "| %s | %s | %d | %.0f |\n", b, d, ($1 - $3) / (n - 1), ($2 - $4) / (n - 1)}'
}

echo "| input | detector | instructions / message | D1 misses / message |"
echo "| --- | --- | ---: | ---: |"
for b in sentences chat30; do
    awk 'NR % 15 == 0' "$data/$b.txt" > "$scratch/$b.sample"
    head -n 1 "$scratch/$b.sample" > "$scratch/$b.one"
    n=$(wc -l < "$scratch/$b.sample")
    row "$b" parley "$n" \
        "$(measure "$scratch/parley_langid" "$scratch/$b.sample" "$root/locales")" \
        "$(measure "$scratch/parley_langid" "$scratch/$b.one" "$root/locales")"
    row "$b" "parley, 22 only" "$n" \
        "$(measure "$scratch/parley_langid" "$scratch/$b.sample" "$root/locales" "$goal")" \
        "$(measure "$scratch/parley_langid" "$scratch/$b.one" "$root/locales" "$goal")"
    row "$b" cld2 "$n" \
        "$(measure "$scratch/cld2_langid" "$scratch/$b.sample")" \
        "$(measure "$scratch/cld2_langid" "$scratch/$b.one")"
done
