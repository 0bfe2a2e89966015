#!/bin/sh
# The mfeat study of README "A real data set: UCI Multiple Features" (issue 18, item 3).
# Sized for 2 shared CPU cores in ~15 minutes: 6 search epochs (the preset says 20) and 5
# fine-tuning epochs per pick; resumable (rerun the same command to finish missing cells).
PYTHONPATH=. python -m mro_core study --dataset mfeat --preset mfeat --epochs 6 --device cpu \
  --methods full,paper,uniform,random_search,no_mrg_prior --seeds 5 --finetune-epochs 5 \
  --workers 2 --name mfeat --out-dir results/mfeat_study --workdir runs/study_mfeat
