#!/usr/bin/env bash
# Runs `pinn run` (or any command given after --) under the arithmetic of several x86-64 machines, to
# measure how far a pinned number moves between CPUs:
#   native      this machine as it is
#   mkl-avx512  oneMKL's Intel AVX-512 kernels (an Intel Xeon with AVX-512), via the mkl_intel_path shim
#   mkl-avx2    an AVX2-only machine: MKL AVX2 kernels, ATen's avx2 kernels, .NET without AVX-512
# Usage: tests/spread/variants.sh [-v "native mkl-avx2"] [-t "1 2"] [-l LOGDIR] -- <command and args>
#   e.g. tests/spread/variants.sh -- ./pinn run heat1d --steps 500 --quiet
# Each line printed: variant, threads, exit code, then the command's last output line (-l keeps the whole
# output as LOGDIR/<variant>-<threads>t.log). PINN_THREADS is set to the
# thread count (the test suite reads it; for pinn run add --set training.threads=$PINN_THREADS yourself,
# or rely on the script appending it when the command is `./pinn run`).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
variants="native mkl-avx512 mkl-avx2"
threads="1 2"
logdir=""
while [ $# -gt 0 ]; do
  case "$1" in
    -v) variants="$2"; shift 2 ;;
    -t) threads="$2"; shift 2 ;;
    -l) logdir="$2"; mkdir -p "$logdir"; shift 2 ;;
    --) shift; break ;;
    *) break ;;
  esac
done
[ $# -gt 0 ] || { echo "usage: $0 [-v variants] [-t threads] -- command" >&2; exit 2; }
shim="${TMPDIR:-/tmp}/pinn-mkl-intel-path.so"
if [ ! -f "$shim" ] || [ "$here/mkl_intel_path.c" -nt "$shim" ]; then
  command -v cc >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcc >/dev/null; }
  cc -shared -fPIC -O2 -o "$shim" "$here/mkl_intel_path.c"
fi
for v in $variants; do
  for t in $threads; do
    env=(PINN_THREADS="$t")
    case "$v" in
      native) ;;
      mkl-avx512) env+=(LD_PRELOAD="$shim" MKL_ENABLE_INSTRUCTIONS=AVX512) ;;
      mkl-avx2) env+=(LD_PRELOAD="$shim" MKL_ENABLE_INSTRUCTIONS=AVX2 ATEN_CPU_CAPABILITY=avx2 DOTNET_EnableAVX512F=0) ;;
      *) echo "unknown variant $v" >&2; exit 2 ;;
    esac
    cmd=("$@")
    if [ "${cmd[0]##*/}" = pinn ] && [ "${cmd[1]:-}" = run ]; then cmd+=(--set "training.threads=$t"); fi
    log="${logdir:-${TMPDIR:-/tmp}}/pinn-variant-$v-${t}t.log"
    rc=0; env "${env[@]}" "${cmd[@]}" > "$log" 2>&1 || rc=$?
    printf '%-10s %s  rc=%s  %s\n' "$v" "$t" "$rc" "$(tail -n 1 "$log")"
  done
done
