#!/usr/bin/env bash
# The main job, end to end on the default dataset: build it from the public releases,
# embed its proteins, train GenePheno and the baselines, evaluate on the test split and
# write a report to results/report/. Every step is cached or resumable, so a second run
# is fast. Uses GENEPHENO_MIRROR when set (offline mirror), else downloads.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
DATASET="${DATASET:-hpo}"
ENCODER="${ENCODER:-unirep256}"
OUT="${OUT:-results/report}"
mkdir -p "$OUT"

"$PY" -m genepheno_core data build "$DATASET"
"$PY" -m genepheno_core data stats "$DATASET" | tee "$OUT/dataset_stats.txt"
# The benchmark embeds the dataset's proteins through the embedding cache (progress bar,
# resumable), trains every method on the random split and evaluates on the test split.
"$PY" -m genepheno_core benchmark --datasets "$DATASET" --splits random --seeds 0 \
    --encoder "$ENCODER" --out "$OUT"
echo "report written to $OUT/benchmark.md"
