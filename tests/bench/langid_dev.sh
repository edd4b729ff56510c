#!/bin/sh
# Parley's accuracy on the development set (tests/bench/langid_dev.py: the
# machine's gettext catalogs), the set used to choose detector settings so
# that lingua's test sets stay unseen. Parley only; one core.
#
#   tests/bench/langid_dev.sh [BUILDDIR]     (default: build; run `make` first)
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
models=${LANGID_MODELS:-$root/../shared/data/langid/lingua-models}
scratch=${LANGID_SCRATCH:-${TMPDIR:-/tmp}/parley-langid-bench}
dev=$root/tests/bench/results/dev
bench=$root/tests/bench
goal=en,es,pt,fr,de,it,nl,sv,pl,ru,uk,tr,ar,fa,ur,he,zh,ja,ko,th,vi,hi

mkdir -p "$scratch" "$dev"
cc -O2 -std=c17 -I"$root/include" "$bench/parley_langid.c" "$build/libparley.a" \
    $(pkg-config --libs icu-uc icu-i18n) -lm -o "$scratch/parley_langid"
[ -f "$dev/para-en.gold" ] || python3 "$bench/langid_dev.py" "$models" "$dev"
for b in ${LANGID_DEV_BUCKETS:-words1 words2-3 words4+ para para-en}; do
    taskset -c "${LANGID_CORE:-1}" "$scratch/parley_langid" "$dev/$b.txt" "$root/locales" \
        > "$dev/$b.pred" 2> "$dev/$b.time"
    printf '%s (22 languages): ' "$b"
    python3 "$bench/langid_score.py" "$dev" "$b" "$dev/$b.pred" --names parley --langs "$goal"
    printf '%s (all languages): ' "$b"
    python3 "$bench/langid_score.py" "$dev" "$b" "$dev/$b.pred" --names parley
done
