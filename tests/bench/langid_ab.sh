#!/bin/sh
# Speed of the detector at one git revision against another, both in one
# process (tests/bench/langid_ab.c): they take turns on chunks of the
# input, so the load of other programs falls on both alike. Each run is
# done both ways round (each revision once as the prefixed variant), which
# cancels what linking order does to code placement; prints every run's
# ratio and the median of all, and how many answers differ (0 means the
# same language and confidence for every message).
#
#   tests/bench/langid_ab.sh REV_A REV_B [INPUT [RUNS [ONLY]]]
#
# INPUT is one of the files langid.sh writes (chat30 by default); ONLY a
# list of allowed languages. The two revisions are built in scratch
# worktrees under LANGID_SCRATCH (not the repository).
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
rev_a=$1 rev_b=$2 input=${3:-chat30} runs=${4:-3} only=${5:-}
scratch=${LANGID_SCRATCH:-${TMPDIR:-/tmp}/parley-langid-bench}/ab
data=$root/tests/bench/results/data/$input.txt
[ -f "$data" ] || { echo "run tests/bench/langid.sh first ($data missing)" >&2; exit 1; }
mkdir -p "$scratch"

# build REV NAME: $scratch/NAME.a (plain) and $scratch/NAME_B.a (prefixed).
build() {
    wt=$scratch/wt-$2
    # What a run that was cut short may have left.
    git -C "$root" worktree remove --force "$wt" 2>/dev/null || true
    rm -rf "$wt"
    git -C "$root" worktree prune
    git -C "$root" worktree add --detach -q "$wt" "$1"
    meson setup "$wt/build" "$wt" --buildtype=debugoptimized >/dev/null
    ninja -C "$wt/build" libparley.a >/dev/null
    # meson's archive is thin; objcopy needs a regular one.
    rm -f "$scratch/$2.a"
    (cd "$wt/build" && ar rcs "$scratch/$2.a" $(ar t libparley.a))
    nm --defined-only -g "$scratch/$2.a" 2>/dev/null |
        awk 'NF == 3 { print $3, "B_" $3 }' | sort -u > "$scratch/$2.syms"
    objcopy --redefine-syms="$scratch/$2.syms" "$scratch/$2.a" "$scratch/$2_B.a"
    git -C "$root" worktree remove --force "$wt"
}
build "$rev_a" a
build "$rev_b" b
libs="$(pkg-config --libs icu-uc icu-i18n) -lm"
cc -O2 -std=c17 -I"$root/include" "$root/tests/bench/langid_ab.c" \
    "$scratch/a.a" "$scratch/b_B.a" $libs -o "$scratch/ab_forward"
cc -O2 -std=c17 -I"$root/include" "$root/tests/bench/langid_ab.c" \
    "$scratch/b.a" "$scratch/a_B.a" $libs -o "$scratch/ab_backward"

for i in $(seq "$runs"); do
    # speed of B relative to A, from each side
    taskset -c 1 "$scratch/ab_forward" "$data" "$root/locales" "$only" 3 |
        sed -n 's/.*b_speed=\([0-9.]*\) differing=\([0-9]*\)/forward \1 \2/p'
    taskset -c 1 "$scratch/ab_backward" "$data" "$root/locales" "$only" 3 |
        sed -n 's/.*b_speed=\([0-9.]*\) differing=\([0-9]*\)/backward \1 \2/p'
done > "$scratch/runs"
awk -v a="$rev_a" -v b="$rev_b" '{ r = ($1 == "forward") ? $2 : 1 / $2
    printf "%s run: %s / %s speed %.4f\n", $1, b, a, r }' "$scratch/runs"
awk '{ print ($1 == "forward") ? $2 : 1 / $2 }' "$scratch/runs" | sort -n |
    awk -v a="$rev_a" -v b="$rev_b" -v d="$(awk '{ s += $3 } END { print s + 0 }' "$scratch/runs")" '
    { v[++n] = $1 }
    END { m = (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
          printf "median of %d: %s runs %.3f times as fast as %s; differing answers: %d\n", n, b, m, a, d }'
