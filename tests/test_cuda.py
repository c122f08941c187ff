"""The from-scratch functions on a CUDA GPU against PyTorch's (skipped without one; run by
scripts/gpu-check.sh on a GPU machine)."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from testkit.ops import OPS, compare

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def _to_cuda(value):
    if isinstance(value, torch.Tensor):
        return value.cuda()
    if isinstance(value, (list, tuple)):
        return type(value)(_to_cuda(v) for v in value)
    return value


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=str)
@pytest.mark.parametrize("op", [pytest.param(op, id=op.name) for op in OPS])
def test_from_scratch_functions_on_cuda_equal_torch(op, dtype):
    for sample in op.samples(dtype, combinations=False):
        moved = dataclasses.replace(
            sample,
            args=_to_cuda(sample.args),
            kwargs={k: _to_cuda(v) for k, v in sample.kwargs.items()},
        )
        compare(op, moved)
