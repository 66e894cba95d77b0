#!/usr/bin/env bash
# A big sweep as a Slurm job array: task I of N runs `scalesim run --shard I/N`; a dependent job
# merges the parts into exactly the single-run result.
#
#   jid=$(sbatch --parsable deploy/sweep-slurm.sh sims/fanout.toml)
#   sbatch --dependency=afterok:$jid --wrap "scalesim merge results/shard-* --out results/merged"
#SBATCH --job-name=scalesim-sweep
#SBATCH --array=0-7
#SBATCH --cpus-per-task=2
#SBATCH --mem=1G
#SBATCH --time=02:00:00
set -euo pipefail
N=$((SLURM_ARRAY_TASK_MAX + 1))
scalesim run "$1" --quiet --shard "${SLURM_ARRAY_TASK_ID}/${N}" --out "results/shard-${SLURM_ARRAY_TASK_ID}"
