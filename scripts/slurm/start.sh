#!/usr/bin/env bash
# Start a one-node Slurm cluster on this host, without systemd:
# munged, slurmctld and slurmd, all as root (SlurmUser=root), with a
# generated slurm.conf. Waits until `sinfo` shows the node idle.
# Idempotent: when the cluster is already up it says so and exits 0.
#
# Environment:
#   PINN_SLURM_DIR      state, spool, pid and log folder   [/tmp/pinn-slurm]
#   SLURM_CONF          slurm.conf to write and use        [/etc/slurm/slurm.conf]
#                       (Slurm's own variable: the daemons and every client,
#                       sbatch/squeue/scontrol, read it. Leave it unset and the
#                       clients find the default path with no environment.)
#   PINN_SLURM_TIMEOUT  seconds to wait for the node to be idle          [60]
#   PINN_SLURM_FORCE=1  overwrite a slurm.conf that these scripts did not write
#
# Exit codes:
#   0   the cluster is up and the node is idle (or was up already)
#   77  cannot run here: not root, Slurm/munge not installed (run install.sh),
#       or a slurm.conf that is not ours is in the way; one line
#       "pinn-slurm: SKIP: <reason>" on stderr
#   1   a daemon failed to start or the node did not become idle in time;
#       the tails of the daemon logs go to stderr
set -u

STATE=${PINN_SLURM_DIR:-/tmp/pinn-slurm}
CONF=${SLURM_CONF:-/etc/slurm/slurm.conf}
TIMEOUT=${PINN_SLURM_TIMEOUT:-60}
MARK="# written by pinn scripts/slurm/start.sh"
HOST=$(hostname -s)
export SLURM_CONF=$CONF

say()  { echo "pinn-slurm: $*"; }
skip() { echo "pinn-slurm: SKIP: $*" >&2; exit 77; }

logs() {
  local f
  for f in "$STATE/log/slurmctld.log" "$STATE/log/slurmd.log" /var/log/munge/munged.log; do
    [ -f "$f" ] || continue
    echo "----- tail $f" >&2
    tail -n 25 "$f" >&2
  done
}
fail() { echo "pinn-slurm: FAILED: $*" >&2; logs; exit 1; }

alive() { # alive PIDFILE: the pid in it is a running process
  local pid
  [ -s "$1" ] || return 1
  pid=$(cat "$1" 2>/dev/null) || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

node_state() { sinfo -h -n "$HOST" -o %T 2>/dev/null | head -n 1; }

[ "$(id -u)" -eq 0 ] || skip "not root (the daemons are started as root)"
for b in munged slurmctld slurmd sinfo sbatch scontrol; do
  command -v "$b" >/dev/null 2>&1 || skip "$b not found; run scripts/slurm/install.sh"
done

# ---- already up? ----------------------------------------------------------
if alive "$STATE/run/slurmctld.pid" && alive "$STATE/run/slurmd.pid" \
   && alive /run/munge/munged.pid; then
  st=$(node_state)
  case "$st" in
    idle|mixed|allocated|completing)
      say "already up: node $HOST is $st (SLURM_CONF=$CONF, state in $STATE)"
      exit 0 ;;
  esac
fi

# ---- slurm.conf -------------------------------------------------------------
if [ -e "$CONF" ] && ! grep -qF "$MARK" "$CONF" && [ "${PINN_SLURM_FORCE:-0}" != 1 ]; then
  skip "$CONF exists and was not written by these scripts (set PINN_SLURM_FORCE=1 to overwrite, or SLURM_CONF=another path)"
fi

mkdir -p "$STATE/ctld" "$STATE/spool" "$STATE/log" "$STATE/run" "$(dirname "$CONF")"

ncpu=$(nproc)
memmb=$(awk '/^MemTotal:/ {print int($2/1024)}' /proc/meminfo)
# headroom: 10% (at least 512 MiB); slurmd drains a node whose real memory is
# below the configured RealMemory.
head=$(( memmb / 10 )); [ "$head" -ge 512 ] || head=512
realmem=$(( memmb - head )); [ "$realmem" -ge 100 ] || realmem=100

# Topology: take slurmd's own view when it agrees with nproc, so that
# CR_Core allocates one CPU per 1-CPU task. With ThreadsPerCore>1, CR_Core
# gives a whole core (all its threads) to each task; we then describe the
# node as CPUs=nproc only (each CPU a core) so that nproc tasks still run at once.
topo="CPUs=$ncpu "
hw=$(slurmd -C 2>/dev/null | head -n 1)
hwcpus=$(sed -n 's/.*CPUs=\([0-9]*\).*/\1/p' <<<"$hw")
hwtpc=$(sed -n 's/.*ThreadsPerCore=\([0-9]*\).*/\1/p' <<<"$hw")
if [ "$hwcpus" = "$ncpu" ] && [ "$hwtpc" = 1 ]; then
  topo="CPUs=$ncpu $(grep -oE '(Boards|SocketsPerBoard|CoresPerSocket|ThreadsPerCore)=[0-9]+' <<<"$hw" | tr '\n' ' ')"
fi

tmp=$(mktemp "$CONF.XXXXXX")
cat >"$tmp" <<EOF
$MARK
# One-node cluster for Pinn's tests on host $HOST. State and logs: $STATE
ClusterName=pinn
SlurmctldHost=$HOST(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=6817
SlurmdPort=6818
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
MailProg=/bin/true
SwitchType=switch/none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
# No accounting DB: completed jobs are kept in slurmctld memory for MinJobAge
# seconds (visible to "scontrol show job"), and one line per finished job is
# appended to the jobcomp file below.
JobCompType=jobcomp/filetxt
JobCompLoc=$STATE/log/jobcomp.log
MinJobAge=600
SchedulerType=sched/backfill
# batch_sched_delay=0: start batch jobs at once (default: up to 3 s later);
# measured: array tasks then start in waves of nproc about 1 s apart.
SchedulerParameters=batch_sched_delay=0
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
SlurmctldTimeout=60
SlurmdTimeout=60
InactiveLimit=0
KillWait=5
Waittime=0
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/spool
SlurmctldPidFile=$STATE/run/slurmctld.pid
SlurmdPidFile=$STATE/run/slurmd.pid
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdLogFile=$STATE/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
NodeName=$HOST NodeAddr=127.0.0.1 ${topo}RealMemory=$realmem State=UNKNOWN
PartitionName=debug Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
EOF
chmod 0644 "$tmp"
mv -f "$tmp" "$CONF"
cp -f "$CONF" "$STATE/slurm.conf.used"

# No cgroup.conf: proctrack/linuxproc and task/none never load a cgroup plugin.
# (Slurm 22.05 has no CgroupPlugin=disabled; 23.02+ does.)

# ---- munge ------------------------------------------------------------------
if ! alive /run/munge/munged.pid; then
  id munge >/dev/null 2>&1 || skip "no munge user; run scripts/slurm/install.sh"
  mkdir -p /run/munge /var/lib/munge /var/log/munge /etc/munge
  chown munge:munge /run/munge /var/lib/munge /var/log/munge /etc/munge
  chmod 0755 /run/munge; chmod 0700 /etc/munge /var/log/munge; chmod 0711 /var/lib/munge
  if [ ! -s /etc/munge/munge.key ]; then
    say "creating /etc/munge/munge.key"
    if command -v mungekey >/dev/null 2>&1; then
      runuser -u munge -- mungekey --create --keyfile=/etc/munge/munge.key --force >/dev/null \
        || fail "mungekey --create failed"
    else
      dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
    fi
  fi
  chown munge:munge /etc/munge/munge.key; chmod 0400 /etc/munge/munge.key
  rm -f /run/munge/munged.pid
  runuser -u munge -- munged || fail "munged did not start"
  for _ in $(seq 50); do [ -S /run/munge/munge.socket.2 ] && break; sleep 0.1; done
fi
munge -n </dev/null | unmunge >/dev/null 2>&1 || fail "munge credential round trip failed"

# ---- slurmctld, slurmd ------------------------------------------------------
if ! alive "$STATE/run/slurmctld.pid"; then
  # -i: ignore errors in old state files (e.g. left by an older config)
  slurmctld -i -f "$CONF" || fail "slurmctld did not start"
fi
# slurmd registers with slurmctld; give slurmctld a moment to listen first
for _ in $(seq 50); do
  alive "$STATE/run/slurmctld.pid" || { sleep 0.3; alive "$STATE/run/slurmctld.pid" || fail "slurmctld exited"; }
  timeout 5 scontrol ping 2>/dev/null | grep -q UP && break; sleep 0.2
done
if ! alive "$STATE/run/slurmd.pid"; then
  slurmd -f "$CONF" || fail "slurmd did not start"
fi

# ---- wait for idle ----------------------------------------------------------
t0=$SECONDS; resumed=0
while :; do
  st=$(node_state)
  case "$st" in
    idle|mixed|allocated) break ;;
    down*|drain*|fail*)
      # ReturnToService=2 usually handles this; a node left DOWN from an
      # earlier run (saved state) needs a resume once slurmd has registered.
      if [ "$resumed" -lt 3 ] && alive "$STATE/run/slurmd.pid"; then
        scontrol update nodename="$HOST" state=resume >/dev/null 2>&1 && resumed=$((resumed+1))
      fi ;;
  esac
  alive "$STATE/run/slurmctld.pid" || fail "slurmctld exited"
  alive "$STATE/run/slurmd.pid"    || fail "slurmd exited"
  [ $((SECONDS - t0)) -lt "$TIMEOUT" ] || fail "node $HOST not idle after ${TIMEOUT}s (state: ${st:-unknown})"
  sleep 0.5
done
say "up: node $HOST is $st, $ncpu CPUs, RealMemory=${realmem}MB (SLURM_CONF=$CONF, state in $STATE)"
