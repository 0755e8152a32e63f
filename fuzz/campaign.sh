#!/bin/bash
# A fuzzing campaign: every target for SECONDS (default 600), one at a time
# (so a second core stays free), working corpora in work/ (git-ignored),
# logs in logs/ (git-ignored). The last lines of each log hold libFuzzer's
# final statistics (executions, coverage); fuzz/README.md records them.
#   fuzz/campaign.sh [SECONDS]
set -u
cd "$(dirname "$0")"
secs="${1:-600}"
mkdir -p logs
cargo fuzz build -s none -a > logs/build.log 2>&1 || { echo "build failed: see fuzz/logs/build.log"; exit 1; }
for t in vdif_frames vdif_stream vdif_source job_file fitsidi; do
  mkdir -p "work/$t"
  start=$(date +%s)
  cargo fuzz run -s none -a "$t" "work/$t" "corpus/$t" -- \
    -max_total_time="$secs" -rss_limit_mb=2048 -print_final_stats=1 > "logs/$t.log" 2>&1
  echo "$t rc=$? secs=$(( $(date +%s) - start )) $(grep -E '^#[0-9]+\s+DONE' "logs/$t.log" | tail -1)" | tee -a logs/summary.txt
done
