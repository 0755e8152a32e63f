#!/usr/bin/env bash
# The measurements behind docs/scaling.md, all in one run so the figures are
# comparable (ratios on the same machine at the same time).
#   docs/scaling.sh SCRATCH_DIR [SECONDS]
# Needs an `emcorr` built with the mpi feature:
#   cargo build --release -p tools --features mpi
# Prints one JSON summary per run (the `mpi` object for MPI runs) to stdout.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
emcorr="$here/../target/release/emcorr"
dir="${1:?scratch directory}"
secs="${2:-4}"
mpirun=(mpirun --allow-run-as-root --oversubscribe)
mkdir -p "$dir"

run() { # label, command...
  local label="$1"; shift
  local json
  json="$("$@")"
  echo "{\"run\":\"$label\",\"summary\":$json}"
}

for scen in "$here/../testdata/scenarios/default.toml" "$here/scaling10.toml"; do
  name="$(basename "$scen" .toml)"
  sim="$dir/$name"
  [ -f "$sim/job.toml" ] || "$emcorr" simulate "$scen" --out "$sim" --seconds "$secs" >&2
  job="$sim/job.toml"
  run "$name single 1 thread" "$emcorr" correlate "$job" --json --threads 1 --output "$sim/single1.fits"
  run "$name single 2 threads" "$emcorr" correlate "$job" --json --threads 2 --output "$sim/single2.fits"
  run "$name mpi 2 ranks (1 worker x 1 thread)" "${mpirun[@]}" -n 2 "$emcorr" correlate "$job" --mpi --json --threads 1 --output "$sim/mpi2.fits"
  run "$name mpi 3 ranks (2 workers x 1 thread)" "${mpirun[@]}" -n 3 "$emcorr" correlate "$job" --mpi --json --threads 1 --output "$sim/mpi3.fits"
  for f in single2 mpi2 mpi3; do
    cmp -s "$sim/single1.fits" "$sim/$f.fits" || { echo "$name: $f.fits differs from single1.fits" >&2; exit 1; }
  done
done
