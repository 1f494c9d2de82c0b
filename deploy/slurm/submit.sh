#!/usr/bin/env bash
# Submits one sharded study to Slurm: a job array with one shard per task, then a report job that
# runs once the whole array has ended (whatever its tasks' exit codes), checks the plan and writes
# the merged report. Prints the two job ids.
#
#   NETWORK=vgg16 SHARDS=8 RESULTS=/shared/study-1 deploy/slurm/submit.sh [dnn-edge flags...]
#
# Environment (all optional but NETWORK):
#   NETWORK     zoo name or model file (on the shared file system)
#   SHARDS      number of shards = array tasks (default 4)
#   RESULTS     shared directory for the results files, the token and the logs (default ./results/<network>-<time>)
#   MODE        lab (default: each task runs the lab on its node) or pair (each task talks to its own cloud)
#   CLOUDS      pair mode: file with one cloud address per line; task K uses line K+1
#   CONCURRENT  at most this many tasks at once (Slurm's %N; default: no limit)
#   SBATCH_ARGS extra sbatch flags for the array, e.g. "--partition=edge --time=12:00:00"
# Flags after the script name go to every dnn-edge (conditions, --reps, --cuts...): every task
# must get the same ones, or their shards belong to different plans (dnn-report refuses to mix them).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
: "${NETWORK:?set NETWORK (e.g. NETWORK=vgg16)}"
SHARDS="${SHARDS:-4}"
MODE="${MODE:-lab}"
RESULTS="${RESULTS:-$PWD/results/$NETWORK-$(date -u +%Y%m%dT%H%M%SZ)}"
case "$MODE" in lab|pair) ;; *) echo "submit.sh: MODE must be lab or pair, got '$MODE'" >&2; exit 2 ;; esac
if [ "$MODE" = pair ]; then
  : "${CLOUDS:?pair mode needs CLOUDS=FILE with one cloud address per line (task K uses line K+1)}"
  n=$(grep -cve '^\s*$' "$CLOUDS")
  [ "$n" -ge "$SHARDS" ] || { echo "submit.sh: $CLOUDS lists $n clouds for $SHARDS shards" >&2; exit 2; }
fi
mkdir -p "$RESULTS/logs"

# The token: made once per study, in a file only the submitting user can read (the tasks run as
# that user). dnn-edge gets it through DNN_TOKEN, never on a command line that ps shows.
token_file="$RESULTS/token"
if [ ! -s "$token_file" ]; then
  (umask 077 && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$token_file")
fi
chmod 600 "$token_file"

# The plan, and each shard's estimated time, before anything is queued (also checks the flags).
"$root/bin/dnn-edge" lab "$NETWORK" --dry-run --shards "$SHARDS" "$@" | tee "$RESULTS/plan.txt" >&2

array_spec="0-$((SHARDS - 1))${CONCURRENT:+%$CONCURRENT}"
# The jobs' DNN_* variables go through sbatch's own environment with a plain --export=ALL, not
# as --export=ALL,NAME=value: a list makes sbatch ask slurmd for the user's login environment
# (SLURM_GET_USER_ENV=1), a login shell before every task starts (up to 120 s on a slow profile),
# and a value with a comma would split the list.
# shellcheck disable=SC2086
array_id=$(DNN_ROOT="$root" DNN_NETWORK="$NETWORK" DNN_SHARDS="$SHARDS" DNN_RESULTS="$RESULTS" DNN_MODE="$MODE" DNN_CLOUDS="${CLOUDS:-}" \
  sbatch --parsable --array="$array_spec" --job-name="dnn-$NETWORK" \
  --output="$RESULTS/logs/shard-%a.out" ${SBATCH_ARGS:-} --export=ALL \
  "$here/shard.sbatch" "$@")
array_id="${array_id%%;*}"
report_id=$(DNN_ROOT="$root" DNN_RESULTS="$RESULTS" \
  sbatch --parsable --dependency="afterany:$array_id" --job-name="dnn-$NETWORK-report" \
  --output="$RESULTS/logs/report.out" --export=ALL \
  "$here/report.sbatch")
report_id="${report_id%%;*}"
echo "array $array_id ($SHARDS shards) -> report $report_id; results in $RESULTS"
echo "$array_id $report_id"
