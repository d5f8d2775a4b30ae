#!/usr/bin/env bash
# Measures the spread of every number the test suite pins after training (tests call Pinned.Below):
# reruns those tests under the arithmetic of several machines (tests/spread/variants.sh: native,
# MKL's Intel AVX-512 path, an AVX2-only machine) with 1 and 2 threads, and over seeds, and prints
# one table: test, then min/max of the value over all runs, the bound, and max/bound.
# Usage: tests/spread/pinned.sh [-v "native mkl-avx512 mkl-avx2"] [-t "1 2"] [-s "1 2 3 4"] [-f FILTER] [-o FILE] [-n]
#   seeds are swept on the native variant with 1 thread; every variant × thread count runs seed 0.
#   -o: the raw rows (test, seed, threads, value, bound, variant; default results/spread/pinned.tsv);
#   -n: no build (when two of these run side by side on one build). Then the table of every row in FILE.
# A pass of the pinned tests takes ~4 min on one core.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
variants="native mkl-avx512 mkl-avx2"; threads="1 2"; seeds="1 2 3 4"; filter="Category=Pinned"
out="$root/results/spread/pinned.tsv"; build=1
while [ $# -gt 0 ]; do
  case "$1" in
    -v) variants="$2"; shift 2 ;; -t) threads="$2"; shift 2 ;; -s) seeds="$2"; shift 2 ;; -f) filter="$2"; shift 2 ;;
    -o) out="$2"; shift 2 ;; -n) build=0; shift ;;
    *) echo "usage: $0 [-v variants] [-t threads] [-s seeds] [-f filter]" >&2; exit 2 ;;
  esac
done
[ "$build" = 0 ] || dotnet build tests/Pinn.Tests/Pinn.Tests.csproj -c Release -v quiet -nologo >/dev/null
mkdir -p "$(dirname "$out")"; touch "$out"
run() { # variant threads seed
  local log; log=$(mktemp)
  PINN_PINNED_LOG="$log" PINN_PINNED_SEED="$3" tests/spread/variants.sh -v "$1" -t "$2" -- \
    dotnet test tests/Pinn.Tests/Pinn.Tests.csproj -c Release --no-build --filter "$filter" >/dev/null || true
  sed "s/\$/\t$1/" "$log" >> "$out"; rm -f "$log"
  echo "  $1, $2 thread(s), seed $3: $(wc -l < "$out") values in $out" >&2
}
for v in $variants; do for t in $threads; do run "$v" "$t" 0; done; done
for s in $seeds; do run native 1 "$s"; done
printf '| test | runs | min | max | bound | max/bound |\n|---|---|---|---|---|---|\n'
awk -F'\t' '{ k=$1; if (!(k in lo) || $4 < lo[k]) lo[k]=$4; if (!(k in hi) || $4 > hi[k]) hi[k]=$4; b[k]=$5; n[k]++ }
  END { for (k in lo) printf "| %s | %d | %.3e | %.3e | %.1e | %.2f |\n", k, n[k], lo[k], hi[k], b[k], hi[k]/b[k] }' "$out" | sort
