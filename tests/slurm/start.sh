#!/usr/bin/env bash
# Starts a one-node Slurm cluster on this machine for the tests: munged,
# slurmctld and slurmd with a generated slurm.conf, every file of theirs in
# the folder given (created), nothing in /etc. Prints the variables a client
# needs (SLURM_CONF=...) and returns once the node is idle. Stop it with
# stop.sh and the same folder.
#
# Usage: tests/slurm/start.sh DIR   (the ports: SPINDLE_SLURM_PORT, default 16817)
set -euo pipefail
dir=${1:?usage: start.sh DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
port=${SPINDLE_SLURM_PORT:-16817}
host=$(hostname -s)
cpus=$(nproc)
mem_mb=$(( $(awk '/^MemTotal:/ {print $2}' /proc/meminfo) / 1024 - 512 ))
mkdir -p "$dir/munge" "$dir/state" "$dir/spool"
chmod 755 "$dir/munge"

# munge: a key of its own, its socket in DIR.
if [[ ! -s $dir/munge/munge.key ]]; then
  dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
fi
chmod 600 "$dir/munge/munge.key"
if [[ $(id -u) -eq 0 ]] && id munge >/dev/null 2>&1; then
  chown -R munge: "$dir/munge"
  as_munge=(runuser -u munge --)
else
  as_munge=()
fi
"${as_munge[@]}" /usr/sbin/munged \
  --key-file="$dir/munge/munge.key" \
  --socket="$dir/munge/munge.socket" \
  --pid-file="$dir/munge/munged.pid" \
  --log-file="$dir/munge/munged.log" \
  --seed-file="$dir/munge/munged.seed"

cat >"$dir/slurm.conf" <<CONF
ClusterName=spindle-test
SlurmctldHost=$host
SlurmUser=$(id -un)
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.socket
CredType=cred/munge
SlurmctldPort=$port
SlurmdPort=$((port + 1))
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/builtin
MpiDefault=none
ReturnToService=2
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SlurmctldTimeout=30
SlurmdTimeout=30
MinJobAge=600
NodeName=$host CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$dir/slurm.conf

/usr/sbin/slurmctld -i
/usr/sbin/slurmd

# Wait (up to 60 s) for the node to take jobs.
for _ in $(seq 1 120); do
  state=$(sinfo --noheader --format=%t 2>/dev/null | head -n1 || true)
  if [[ $state == idle || $state == mix ]]; then
    echo "SLURM_CONF=$SLURM_CONF"
    exit 0
  fi
  sleep 0.5
done
echo "start.sh: the node did not become idle; see $dir/slurmctld.log and $dir/slurmd.log" >&2
sinfo >&2 || true
exit 1
