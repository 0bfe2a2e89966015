#!/usr/bin/env bash
# Issue 18 item 5: relative vs sigmoid inclusion on three topologies x 3 seeds (SEEDS="0 1 2"), 10 epochs, demo preset.
# Usage (from the repo root): nice -n 10 bash results/inclusion/run.sh OUTDIR   (2 runs at a time)
set -u
OUT=${1:-results/inclusion}
PY=${PY:-python}
HUB=(--modalities ecg,img,eeg,aud,txt --planted 'ecg->img,ecg->eeg,ecg->aud,img->txt' --num-keys 4 --seq-len 6 --min-len 6 --n-train 2000)
jobs_list=()
for seed in ${SEEDS:-0 1 2}; do
  for bench in hub ring5 default; do
    for inc in relative sigmoid; do
      jobs_list+=("$bench $inc $seed")
    done
  done
done
run_one() {
  read -r bench inc seed <<<"$1"
  case $bench in
    hub) data=("${HUB[@]}");;
    *) data=(--benchmark "$bench");;
  esac
  f="$OUT/$bench-$inc-s$seed"
  [ -s "$f.json" ] && return 0
  OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $PY -m mro_core search "${data[@]}" --epochs 10 --seed "$seed" \
    --inclusion "$inc" --no-progress --json --out "/tmp/pick/ck/$bench-$inc-s$seed.pt" \
    --workspace /tmp/pick/ws-$bench-$inc-s$seed > "$f.json.tmp" 2> "$f.log" && mv "$f.json.tmp" "$f.json"
}
mkdir -p /tmp/pick/ck
i=0
for j in "${jobs_list[@]}"; do
  run_one "$j" &
  i=$((i+1))
  if (( i % 2 == 0 )); then wait; fi
done
wait
