"""fit(amp=True): mixed precision (bfloat16 autocast on the CPU, float16 + GradScaler on CUDA)."""

from __future__ import annotations

import pytest
import torch
import torch.nn as tnn
from torch.utils.data import DataLoader, TensorDataset

from nnbasics.training import fit


def _run(amp: bool, device: str = "cpu", epochs: int = 8):
    torch.manual_seed(0)
    X, y = torch.randn(256, 10), torch.randint(0, 3, (256,))
    model = tnn.Sequential(tnn.Linear(10, 64), tnn.ReLU(), tnn.Linear(64, 3))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    loader = DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True)
    history = fit(
        model,
        loader,
        tnn.CrossEntropyLoss(),
        opt,
        epochs,
        max_grad_norm=1.0,
        device=device,
        amp=amp,
    )
    return model, history


def test_amp_on_the_cpu_trains_in_bfloat16_and_follows_float32():
    model, mixed = _run(amp=True)
    _, full = _run(amp=False)
    assert all(p.dtype == torch.float32 for p in model.parameters())  # master weights stay
    assert mixed.train_loss[-1] < 0.9 * mixed.train_loss[0]  # it learns
    # bfloat16 keeps 8 significant bits: the curves agree to a few percent, not exactly
    for m, f in zip(mixed.train_loss, full.train_loss, strict=True):
        assert m == pytest.approx(f, rel=0.05)
    assert mixed.train_loss != full.train_loss  # autocast did run in lower precision


def test_amp_autocasts_the_forward_pass_to_bfloat16_on_the_cpu():
    seen = []
    torch.manual_seed(0)
    model = tnn.Linear(4, 2)
    model.register_forward_hook(lambda m, i, out: seen.append(out.dtype))
    loader = DataLoader(TensorDataset(torch.randn(8, 4), torch.randint(0, 2, (8,))), batch_size=8)
    fit(
        model,
        loader,
        tnn.CrossEntropyLoss(),
        torch.optim.SGD(model.parameters(), lr=0.1),
        1,
        amp=True,
    )
    assert seen == [torch.bfloat16]


def test_amp_must_be_a_bool():
    model = tnn.Linear(4, 2)
    loader = DataLoader(TensorDataset(torch.randn(8, 4), torch.randint(0, 2, (8,))), batch_size=8)
    with pytest.raises(TypeError, match="amp must be True or False, got 'yes'"):
        fit(
            model,
            loader,
            tnn.CrossEntropyLoss(),
            torch.optim.SGD(model.parameters(), lr=0.1),
            1,
            amp="yes",
        )


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_amp_on_cuda_uses_float16_with_a_gradient_scaler():
    model, mixed = _run(amp=True, device="cuda")
    _, full = _run(amp=False, device="cuda")
    assert all(p.dtype == torch.float32 for p in model.parameters())
    for m, f in zip(mixed.train_loss, full.train_loss, strict=True):
        assert m == pytest.approx(f, rel=0.05)
