#!/usr/bin/env bash
# Start a single-node SLURM cluster on this machine, for the cluster tests (tests/test_slurm.py) and
# CI (.ci/run). Needs root and Debian's slurm-wlm and munge packages (this script installs them when
# they are missing). Safe to run again: a cluster that already answers `sinfo` is left as it is.
#
# Partitions: `main` (default, no time limit beyond the node's) and `short` (one-minute limit, for the
# test that a training job killed at its time limit completes by resuming on retry).
# No accounting (AccountingStorageType=accounting_storage/none): the SLURM profile's status command is
# squeue, as on many small clusters. State, logs and pid files live under $SLURM_STATE (default
# /tmp/slurm-single-node).
set -euo pipefail

STATE=${SLURM_STATE:-/tmp/slurm-single-node}
CONF=/etc/slurm/slurm.conf

if [ "$(id -u)" -ne 0 ]; then
    echo "start_slurm.sh: run as root (it writes $CONF and starts munged, slurmctld, slurmd)" >&2
    exit 1
fi

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurm-wlm munge
fi

if timeout 10 sinfo -h -o '%T' 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then
    echo "start_slurm.sh: a cluster already answers sinfo:"
    sinfo
    exit 0
fi

# munge: a key, then the daemon as the munge user.
install -d -o munge -g munge -m 0700 /etc/munge /var/lib/munge /var/log/munge
install -d -o munge -g munge -m 0755 /run/munge
if [ ! -s /etc/munge/munge.key ]; then
    dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key status=none
fi
chown munge:munge /etc/munge/munge.key
chmod 0400 /etc/munge/munge.key
if ! munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; then
    su -s /bin/sh munge -c "/usr/sbin/munged --force"
    for _ in $(seq 20); do munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.5; done
fi

# slurm.conf: one node with this machine's CPUs and memory (a little kept for the system).
HOST=$(hostname -s)
CPUS=$(nproc)
MEM_MB=$(awk '/MemTotal/ {print int($2 / 1024 * 0.9)}' /proc/meminfo)
mkdir -p "$STATE/ctld" "$STATE/d" /etc/slurm
cat >"$CONF" <<CONF
# Written by tests/cluster/start_slurm.sh: a single-node cluster for tests.
ClusterName=single
SlurmctldHost=$HOST
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
# squeue must still see a finished job when the executor asks (MinJobAge, seconds).
MinJobAge=600
# A job over its limit gets SIGTERM, then SIGKILL after KillWait seconds.
KillWait=10
OverTimeLimit=0
SchedulerType=sched/backfill
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/d
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/slurmctld.log
SlurmdLogFile=$STATE/slurmd.log
NodeName=$HOST CPUs=$CPUS RealMemory=$MEM_MB State=UNKNOWN
PartitionName=main Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
PartitionName=short Nodes=$HOST Default=NO MaxTime=1 State=UP
CONF

pid_alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
pid_alive "$STATE/slurmctld.pid" || slurmctld
pid_alive "$STATE/slurmd.pid" || slurmd

for _ in $(seq 60); do
    if sinfo -h -o '%T' 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then
        sinfo
        exit 0
    fi
    sleep 1
done
echo "start_slurm.sh: the node did not become idle; see $STATE/slurmctld.log and $STATE/slurmd.log" >&2
sinfo >&2 || true
exit 1
