#!/usr/bin/env bash
# End-to-end check of the one-node cluster: install, start, submit an
# `sbatch --array=0-3` job (task 2 exits 1 on purpose) and a job that depends
# on it with --dependency=afterany, wait without an accounting DB (squeue +
# the files the tasks write + scontrol show job), check 3 tasks succeeded and
# 1 failed, print timings, stop.
#
# Environment: PINN_SLURM_DIR, SLURM_CONF as for start.sh;
#   PINN_SLURM_KEEP=1   leave the cluster running at the end
#   PINN_SLURM_WAIT     seconds to wait for the jobs [120]
# Exit codes: 0 pass; 77 install.sh or start.sh said it cannot run here
#   (its reason is on stderr); 1 fail.
set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
STATE=${PINN_SLURM_DIR:-/tmp/pinn-slurm}
WAIT=${PINN_SLURM_WAIT:-120}
export SLURM_CONF=${SLURM_CONF:-/etc/slurm/slurm.conf}

say() { echo "smoke: $*"; }
now() { date +%s.%N; }
dt()  { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

finish() { # finish RC MESSAGE
  local rc=$1; shift
  if [ "$rc" -ne 0 ]; then
    echo "smoke: FAIL: $*" >&2
    [ -n "${WORK:-}" ] && { echo "----- $WORK" >&2; ls -l "$WORK" >&2; }
    [ -f "$STATE/log/slurmctld.log" ] && { echo "----- slurmctld.log" >&2; tail -n 20 "$STATE/log/slurmctld.log" >&2; }
    [ -f "$STATE/log/slurmd.log" ] && { echo "----- slurmd.log" >&2; tail -n 20 "$STATE/log/slurmd.log" >&2; }
  else
    say "$*"
  fi
  if [ "${PINN_SLURM_KEEP:-0}" != 1 ]; then
    "$HERE/stop.sh" || rc=1
    if pgrep '^(slurm|munged)' >/dev/null; then
      echo "smoke: FAIL: daemons left after stop.sh: $(pgrep -a '^(slurm|munged)' | tr '\n' ';')" >&2
      rc=1
    fi
  fi
  exit "$rc"
}

# ---- install, start --------------------------------------------------------
t=$(now); "$HERE/install.sh"; rc=$?; t_install=$(dt "$t" "$(now)")
[ $rc -eq 77 ] && exit 77
[ $rc -eq 0 ] || { echo "smoke: FAIL: install.sh rc=$rc" >&2; exit 1; }

t=$(now); "$HERE/start.sh"; rc=$?; t_start=$(dt "$t" "$(now)")
[ $rc -eq 77 ] && exit 77
[ $rc -eq 0 ] || finish 1 "start.sh rc=$rc"

# ---- jobs ------------------------------------------------------------------
WORK=$(mktemp -d "$STATE/smoke.XXXXXX")
cat >"$WORK/task.sh" <<'EOF'
#!/bin/bash
# One array task. Slurm's own stdout file (-o) appears when the task starts;
# the rc file, written last, says that it ended and how.
i=$SLURM_ARRAY_TASK_ID
date +%s.%N >"t0.$i"
echo "task $i on $(hostname -s) job $SLURM_JOB_ID array $SLURM_ARRAY_JOB_ID cpus $SLURM_CPUS_ON_NODE"
if [ "$i" -eq 2 ]; then rc=1; else rc=0; fi
date +%s.%N >"t1.$i"
echo "$rc" >"rc.$i.tmp" && mv "rc.$i.tmp" "rc.$i"
exit "$rc"
EOF
cat >"$WORK/summary.sh" <<'EOF'
#!/bin/bash
ok=0; failed=0; missing=0
for i in 0 1 2 3; do
  if [ ! -f "rc.$i" ]; then missing=$((missing+1))
  elif [ "$(cat "rc.$i")" = 0 ]; then ok=$((ok+1))
  else failed=$((failed+1)); fi
done
echo "ok=$ok failed=$failed missing=$missing" >summary.tmp && mv summary.tmp summary.txt
EOF
chmod +x "$WORK/task.sh" "$WORK/summary.sh"

t_submit=$(now)
arr=$(sbatch --parsable --job-name=pinn-smoke --array=0-3 --ntasks=1 --cpus-per-task=1 \
        --chdir="$WORK" --output="$WORK/task_%A_%a.out" --error="$WORK/task_%A_%a.err" \
        "$WORK/task.sh") || finish 1 "sbatch of the array failed"
arr=${arr%%;*}   # --parsable prints "jobid[;cluster]"
dep=$(sbatch --parsable --job-name=pinn-smoke-summary --dependency="afterany:$arr" \
        --chdir="$WORK" --output="$WORK/summary_%j.out" "$WORK/summary.sh") \
        || finish 1 "sbatch of the dependent job failed"
dep=${dep%%;*}
say "submitted array job $arr (tasks 0-3) and summary job $dep (afterany:$arr)"

# Wait: squeue lists pending/running/completing jobs only; an empty answer
# (or "Invalid job id" once slurmctld has purged the record after MinJobAge)
# means the job has left the queue. The summary file is the second sign.
deadline=$(( SECONDS + WAIT ))
while :; do
  q=$(squeue -h -j "$arr,$dep" -o '%i %T' 2>/dev/null)
  [ -z "$q" ] && [ -f "$WORK/summary.txt" ] && break
  [ "$SECONDS" -lt "$deadline" ] || finish 1 "jobs not done after ${WAIT}s; squeue: $q"
  sleep 0.2
done
t_done=$(now)

# ---- checks ----------------------------------------------------------------
summary=$(cat "$WORK/summary.txt")
# scontrol show job ARRAYID lists one record per task while slurmctld keeps
# them (MinJobAge=600 s in our slurm.conf; 300 s is Slurm's default).
states=$(scontrol show job "$arr" 2>/dev/null | grep -oE 'JobState=[A-Z_]+' | sort | uniq -c | tr -s ' ' | tr '\n' ',')
ncomp=$(scontrol show job "$arr" 2>/dev/null | grep -c 'JobState=COMPLETED')
nfail=$(scontrol show job "$arr" 2>/dev/null | grep -c 'JobState=FAILED')
depstate=$(scontrol show job "$dep" 2>/dev/null | grep -oE 'JobState=[A-Z_]+')
say "summary job wrote: $summary"
say "scontrol: array tasks${states:+: $states} summary job $depstate"

# the tasks' own clocks: submit -> first task start, first start -> last end
first=$(cat "$WORK"/t0.* 2>/dev/null | sort -n | head -n 1)
last=$(cat "$WORK"/t1.* 2>/dev/null | sort -n | tail -n 1)
nout=$(ls "$WORK"/task_"${arr}"_*.out 2>/dev/null | wc -l)

echo
echo "timings:"
echo "  install.sh           ${t_install} s"
echo "  start.sh (to idle)   ${t_start} s"
echo "  submit -> all done   $(dt "$t_submit" "$t_done") s   (4 array tasks + 1 dependent job, $(nproc) CPUs)"
[ -n "$first" ] && [ -n "$last" ] && {
echo "  submit -> 1st task   $(dt "$t_submit" "$first") s"
echo "  1st start->last end  $(dt "$first" "$last") s   (tasks do nothing: this is scheduling overhead)"
echo "  last end -> done     $(dt "$last" "$t_done") s   (dependent job + polling)"
}
echo

[ "$summary" = "ok=3 failed=1 missing=0" ] || finish 1 "summary: expected ok=3 failed=1 missing=0, got '$summary'"
[ "$ncomp" -eq 3 ] && [ "$nfail" -eq 1 ] || finish 1 "scontrol: expected 3 COMPLETED and 1 FAILED, got $states"
[ "$depstate" = JobState=COMPLETED ] || finish 1 "summary job: $depstate"
[ "$nout" -eq 4 ] || finish 1 "expected 4 task stdout files, found $nout"
grep -q "task 2 on" "$WORK/task_${arr}_2.out" || finish 1 "task 2 stdout lacks its line"
finish 0 "PASS (3 succeeded, 1 failed as intended; work dir $WORK)"
