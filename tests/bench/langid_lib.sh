# Shared by the detector's speed benchmarks (langid_speed.sh,
# langid_vs.sh, langid_instructions.sh): where the inputs and the scratch
# builds live, the core to pin to, and the 22 languages of the goal.
# Sourced after $root is set, not run.

scratch=${LANGID_SCRATCH:-${TMPDIR:-/tmp}/parley-langid-bench}
data=$root/tests/bench/results/data
core=${LANGID_CORE:-1}
goal=en,es,pt,fr,de,it,nl,sv,pl,ru,uk,tr,ar,fa,ur,he,zh,ja,ko,th,vi,hi
bench=$root/tests/bench

[ -f "$data/sentences.txt" ] || { echo "run tests/bench/langid.sh first" >&2; exit 1; }
mkdir -p "$scratch"
