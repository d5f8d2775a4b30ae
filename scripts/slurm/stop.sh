#!/usr/bin/env bash
# Stop the one-node cluster that start.sh started: cancel every job, then
# stop slurmd, slurmctld and munged. Packages, slurm.conf and the state
# folder stay (remove $PINN_SLURM_DIR by hand for a clean slate).
# Idempotent: with nothing running it says so and exits 0.
#
# Environment: PINN_SLURM_DIR [/tmp/pinn-slurm], SLURM_CONF [/etc/slurm/slurm.conf]
# Exit codes: 0 stopped (or nothing was running); 1 a daemon would not die.
set -u

STATE=${PINN_SLURM_DIR:-/tmp/pinn-slurm}
export SLURM_CONF=${SLURM_CONF:-/etc/slurm/slurm.conf}
say() { echo "pinn-slurm: $*"; }

pidof_file() { [ -s "$1" ] && cat "$1" 2>/dev/null; }
running() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }

# The daemons these scripts start: by pid file, and, when the state folder
# shows that start.sh ran here, any other process with exactly that name
# (e.g. one whose pid file was lost). slurmstepd: the per-job helpers.
pids_of() { # pids_of NAME PIDFILE
  local p; p=$(pidof_file "$2")
  running "$p" && echo "$p"
  if [ -d "$STATE/run" ]; then pgrep -x "$1" 2>/dev/null; fi
}

killwait() { # killwait NAME PIDFILE
  local name=$1 pidf=$2 pids left i
  pids=$(pids_of "$name" "$pidf" | sort -u | tr '\n' ' ')
  [ -n "${pids// /}" ] || return 0
  # shellcheck disable=SC2086
  kill -TERM $pids 2>/dev/null
  for i in $(seq 100); do      # up to 10 s, then SIGKILL
    left=""
    for p in $pids; do running "$p" && left="$left $p"; done
    [ -n "$left" ] || break
    [ "$i" -eq 100 ] && kill -KILL $left 2>/dev/null
    sleep 0.1
  done
  sleep 0.1
  left=""; for p in $pids; do running "$p" && left="$left $p"; done
  if [ -n "$left" ]; then echo "pinn-slurm: $name would not die:$left" >&2; return 1; fi
  say "stopped $name ($pids)"; rm -f "$pidf"
}

any=0
for n in slurmctld slurmd slurmstepd munged; do pgrep -x "$n" >/dev/null 2>&1 && any=1; done
if [ "$any" = 0 ]; then say "not running"; exit 0; fi

rc=0
if command -v scancel >/dev/null 2>&1 && pgrep -x slurmctld >/dev/null 2>&1; then
  timeout 10 scancel --full --quiet --user=root 2>/dev/null
  timeout 10 scancel --full --quiet $(squeue -h -o %A 2>/dev/null | tr '\n' ' ') 2>/dev/null
  # let running steps be killed (KillWait=5) before slurmd goes
  for _ in $(seq 40); do
    [ -z "$(timeout 5 squeue -h -o %A 2>/dev/null)" ] && break; sleep 0.25
  done
fi
killwait slurmd     "$STATE/run/slurmd.pid"    || rc=1
killwait slurmstepd /nonexistent               || rc=1
killwait slurmctld  "$STATE/run/slurmctld.pid" || rc=1
killwait munged     /run/munge/munged.pid      || rc=1
# slurmctld's helper is named "slurmscriptd" in ps; it exits with slurmctld.
exit $rc
