#!/usr/bin/env bash
# The full 80-epoch run on the lent GPU machine, in two steps.
#
# That machine has JAX (CUDA), NumPy and h5py but neither Keras nor
# TensorFlow, and cannot download anything. So:
#
#   1. Here, on the development machine (needs pip and the network):
#        bash bench/gpu_full_run.sh prepare
#      downloads the wheels of Keras and what it needs that the GPU image
#      lacks (for Python 3.12) into .whl/, which git ignores.
#   2. With the device tool's `run`, carrying .whl, from the repository root:
#        bash bench/gpu_full_run.sh run
#      installs those wheels into /tmp/site and runs bench/gpu_full_run.py
#      with KERAS_BACKEND=jax, writing the run folder to $OUT/gpu_full_run
#      (it comes back from the device), with the log beside it. Copy that
#      folder to bench/gpu_full_run/ and commit it; its metrics.json says
#      which device produced it.
#
# Extra arguments after `run` go to gpu_full_run.py, e.g. `--epochs 2`.
set -euo pipefail
KERAS_VERSION=3.15.1

case "${1:-}" in
  prepare)
    mkdir -p .whl
    for package in "keras==${KERAS_VERSION}" namex optree; do
      python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 \
        --implementation cp --platform manylinux_2_28_x86_64 \
        --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
        -d .whl "${package}"
    done
    ls -la .whl
    ;;
  run)
    shift
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
      --upgrade --target /tmp/site .whl/*.whl
    export PYTHONPATH=/tmp/site PYTHONUNBUFFERED=1 KERAS_BACKEND=jax
    output="${OUT:-/tmp}/gpu_full_run"
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv || true
    python3 bench/gpu_full_run.py --output "${output}" "$@" 2>&1 \
      | tee "${OUT:-/tmp}/gpu_full_run.log"
    ;;
  *)
    echo "usage: bash bench/gpu_full_run.sh prepare | run [gpu_full_run.py options]" >&2
    exit 2
    ;;
esac
