#!/usr/bin/env bash
# Install the Debian packages for a one-node Slurm cluster (slurmctld, slurmd,
# slurm-client, munge, slurm-wlm-basic-plugins). Idempotent: when everything
# is already installed it exits 0 at once, without touching apt.
#
# Exit codes:
#   0   installed (now or before)
#   77  cannot install here (not root, no apt-get/dpkg, package index
#       unreachable, package not found); one line "pinn-slurm: SKIP: <reason>"
#       goes to stderr so a test can turn it into a skip with that reason
#   1   anything else went wrong (apt-get install failed for another reason)
set -u

PKGS=(slurmctld slurmd slurm-client munge slurm-wlm-basic-plugins)

skip() { echo "pinn-slurm: SKIP: $*" >&2; exit 77; }

missing() {
  local p out=()
  for p in "${PKGS[@]}"; do
    if ! dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed; then
      out+=("$p")
    fi
  done
  echo "${out[*]:-}"
}

command -v dpkg-query >/dev/null 2>&1 || skip "no dpkg-query: not a Debian/Ubuntu system"

todo=$(missing)
if [ -z "$todo" ] && command -v sbatch >/dev/null && command -v slurmctld >/dev/null \
   && command -v slurmd >/dev/null && command -v munged >/dev/null; then
  echo "pinn-slurm: already installed (slurm $(dpkg-query -W -f='${Version}' slurmctld 2>/dev/null))"
  exit 0
fi

[ "$(id -u)" -eq 0 ] || skip "not root; cannot apt-get install: $todo"
command -v apt-get >/dev/null 2>&1 || skip "no apt-get; cannot install: $todo"

export DEBIAN_FRONTEND=noninteractive
log=$(mktemp /tmp/pinn-slurm-install.XXXXXX.log)
trap 'rm -f "$log"' EXIT

# An empty or stale package index: refresh it once, then try again.
have_candidates() {
  local p c
  for p in $todo; do
    c=$(apt-cache policy "$p" 2>/dev/null | awk '/Candidate:/ {print $2}')
    [ -n "$c" ] && [ "$c" != "(none)" ] || return 1
  done
}
if ! have_candidates; then
  echo "pinn-slurm: apt-get update (package index empty or lacks: $todo)"
  if ! apt-get update >"$log" 2>&1; then
    skip "apt-get update failed (package index unreachable?): $(grep -E '^(E|W):' "$log" | head -1)"
  fi
  # apt-get update exits 0 even when every source was unreachable.
  if grep -qE '^(E:|W: Failed to fetch|Err:)' "$log" && ! have_candidates; then
    skip "package index unreachable: $(grep -E '^(E|W|Err)' "$log" | head -1)"
  fi
  have_candidates || skip "packages not found in the apt index: $todo"
fi

echo "pinn-slurm: apt-get install $todo"
# shellcheck disable=SC2086
if ! apt-get install -y --no-install-recommends $todo >"$log" 2>&1; then
  if grep -qE 'Temporary failure resolving|Could not resolve|Failed to fetch|Unable to fetch' "$log"; then
    skip "package download failed: $(grep -E 'Failed to fetch|Unable to fetch|resolv' "$log" | head -1)"
  fi
  echo "pinn-slurm: apt-get install failed:" >&2
  tail -n 20 "$log" >&2
  exit 1
fi

# The Debian postinst scripts try to start the services; without systemd as
# PID 1 that fails harmlessly, but make sure nothing was left running.
todo=$(missing)
[ -z "$todo" ] || { echo "pinn-slurm: still missing after install: $todo" >&2; exit 1; }
echo "pinn-slurm: installed (slurm $(dpkg-query -W -f='${Version}' slurmctld 2>/dev/null))"
