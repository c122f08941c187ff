#!/usr/bin/env bash
# The checks that need a CUDA GPU (run on a GPU machine with a CUDA build of PyTorch and
# nnbasics installed, from the repository root: bash scripts/gpu-check.sh):
#   1. every CUDA test: the from-scratch functions on CUDA against PyTorch (tests/test_cuda.py),
#      fit on CUDA, fit(amp=True) on CUDA (float16 + GradScaler);
#   2. fit on CUDA with and without AMP on the article's example: final losses and time per epoch.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python}
"$PYTHON" - <<'PY'
import torch
assert torch.cuda.is_available(), "no CUDA GPU visible to this PyTorch"
print("torch", torch.__version__, "on", torch.cuda.get_device_name(0))
PY
"$PYTHON" -m pytest -q -p no:cacheprovider -rs tests/test_cuda.py \
    tests/test_amp.py::test_amp_on_cuda_uses_float16_with_a_gradient_scaler \
    tests/test_training.py::test_fit_on_cuda
"$PYTHON" - <<'PY'
import time

import torch

from nnbasics.training import article_example

for amp in (False, True):
    example = article_example(seed=0)
    torch.cuda.synchronize()
    start = time.perf_counter()
    history = example.fit(50, device="cuda", amp=amp)
    torch.cuda.synchronize()
    per_epoch = (time.perf_counter() - start) / 50
    print(f"article example on CUDA, amp={amp}: loss {history.train_loss[0]:.4f} -> "
          f"{history.train_loss[-1]:.4f}, {per_epoch * 1000:.1f} ms per epoch")
PY
