#!/bin/sh
# Language-identification benchmark: Parley, CLD2 (best effort) and ELD
# (large) side by side on lingua's test sets, one core each. Parley and ELD
# also run restricted to the 22 languages of the goal ("parley22", "eld22":
# Parley's allowed-language set read once, ELD's language subset), the
# setting in which the issue's ELD-L figures were measured.
#
#   tests/bench/langid.sh [BUILDDIR]        (default: build; run `make` first)
#
# Installs what it needs that the test suite does not: Debian libcld2-dev and
# g++ (through tests/tools/apt-ensure), and npm `eld` into a scratch folder
# ($LANGID_SCRATCH, default /tmp/parley-langid-bench), never into the repo.
# Test data: $LANGID_TESTDATA, default ../shared/data/langid/lingua-testdata.
# Results: tests/bench/results/ (ignored by git); the Markdown report is
# printed at the end and saved as tests/bench/results/report.md.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
data=${LANGID_TESTDATA:-$root/../shared/data/langid/lingua-testdata}
scratch=${LANGID_SCRATCH:-${TMPDIR:-/tmp}/parley-langid-bench}
res=$root/tests/bench/results
core=${LANGID_CORE:-1}
bench=$root/tests/bench

"$root/tests/tools/apt-ensure" libcld2-dev g++
# Node and npm may come from Debian or from NodeSource's nodejs (which ships
# npm itself and conflicts with Debian's npm package).
command -v node >/dev/null && command -v npm >/dev/null ||
    "$root/tests/tools/apt-ensure" nodejs npm
goal=en,es,pt,fr,de,it,nl,sv,pl,ru,uk,tr,ar,fa,ur,he,zh,ja,ko,th,vi,hi
mkdir -p "$scratch" "$res/data" "$res/parley" "$res/cld2" "$res/eld" "$res/parley22" \
    "$res/eld22"
if [ ! -d "$scratch/node_modules/eld" ]; then
    npm install --prefix "$scratch" --no-save --silent eld@2
fi
cp "$bench/eld_langid.mjs" "$scratch/"

cc -O2 -std=c17 -I"$root/include" "$bench/parley_langid.c" "$build/libparley.a" \
    $(pkg-config --libs icu-uc icu-i18n) -lm -o "$scratch/parley_langid"
g++ -O2 "$bench/cld2_langid.cc" -lcld2 -o "$scratch/cld2_langid"

python3 "$bench/langid_data.py" "$data" "$res/data"
for b in sentences chat30 word-pairs single-words; do
    in=$res/data/$b.txt
    echo "== $b" >&2
    taskset -c "$core" "$scratch/parley_langid" "$in" "$root/locales" \
        > "$res/parley/$b.pred" 2> "$res/parley/$b.time"
    taskset -c "$core" "$scratch/cld2_langid" "$in" \
        > "$res/cld2/$b.pred" 2> "$res/cld2/$b.time"
    taskset -c "$core" node "$scratch/eld_langid.mjs" "$in" \
        > "$res/eld/$b.pred" 2> "$res/eld/$b.time"
    taskset -c "$core" "$scratch/parley_langid" "$in" "$root/locales" "$goal" \
        > "$res/parley22/$b.pred" 2> "$res/parley22/$b.time"
    taskset -c "$core" node "$scratch/eld_langid.mjs" "$in" "$goal" \
        > "$res/eld22/$b.pred" 2> "$res/eld22/$b.time"
    cat "$res/parley/$b.time" "$res/cld2/$b.time" "$res/eld/$b.time" >&2
done
cd "$bench"
python3 langid_report.py "$res" parley,cld2,eld parley22,eld22 | tee "$res/report.md"
