import math

import pytest
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

from nnbasics.data import make_blobs, make_random_classification
from nnbasics.models import make_classifier
from nnbasics.training import (
    ArticleExample,
    History,
    article_example,
    evaluate,
    fit,
    resolve_device,
    set_seed,
    train_epoch,
)
from testkit.article import article_run


def _blobs_loaders(seed=0):
    X, y = make_blobs(400, 4, 3, seed=seed)
    train = DataLoader(TensorDataset(X[:300], y[:300]), batch_size=32, shuffle=True)
    val = DataLoader(TensorDataset(X[300:], y[300:]), batch_size=50)
    return train, val


def _setup(seed=0):
    torch.manual_seed(seed)
    model = make_classifier(input_dim=4, hidden_dims=(16,), num_classes=3, dropout=0.1)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    return model, optimizer


def test_fit_learns_a_learnable_set():
    train, val = _blobs_loaders()
    model, optimizer = _setup()
    history = fit(model, train, nn.CrossEntropyLoss(), optimizer, 15, val_loader=val)
    assert isinstance(history, History) and history.epochs == 15
    assert history.train_loss[-1] < 0.5 * history.train_loss[0]
    assert history.val_accuracy[-1] > 0.9
    assert len(history.val_loss) == len(history.val_accuracy) == len(history.lr) == 15
    assert model.training  # fit leaves the model in training mode, as the article's loop does


def test_fit_is_exactly_the_articles_loop():
    expected, _, reference = article_run(4, n_samples=200)
    example = article_example(n_samples=200)
    history = example.fit(4)
    assert history.train_loss == expected
    for p, q in zip(example.model.parameters(), reference.parameters(), strict=True):
        assert torch.equal(p, q)


def test_article_example_is_the_articles_setup():
    example = article_example(seed=3, n_samples=100, batch_size=25, lr=0.01)
    assert isinstance(example, ArticleExample)
    assert isinstance(example.criterion, nn.CrossEntropyLoss) and example.max_grad_norm == 1.0
    assert isinstance(example.optimizer, torch.optim.AdamW)
    group = example.optimizer.param_groups[0]
    assert group["lr"] == 0.01 and group["weight_decay"] == 0.01
    assert group["params"] == list(example.model.parameters())
    assert str(example.model) == str(make_classifier())
    assert example.loader.batch_size == 25 and len(example.loader.dataset) == 100
    torch.manual_seed(3)
    X, y = make_random_classification(100, 20, 5, seed=None)
    assert torch.equal(example.loader.dataset.tensors[0], X)
    assert torch.equal(example.loader.dataset.tensors[1], y)


def test_fit_clips_with_max_grad_norm(monkeypatch):
    calls = []
    original = torch.nn.utils.clip_grad_norm_

    def spy(params, max_norm, *args, **kwargs):
        calls.append(max_norm)
        return original(params, max_norm, *args, **kwargs)

    monkeypatch.setattr(torch.nn.utils, "clip_grad_norm_", spy)
    train, _ = _blobs_loaders()
    model, optimizer = _setup()
    fit(model, train, nn.CrossEntropyLoss(), optimizer, 2, max_grad_norm=0.25)
    assert calls == [0.25] * (2 * len(train))
    calls.clear()
    fit(model, train, nn.CrossEntropyLoss(), optimizer, 1)
    assert calls == []


def test_fit_clipping_bounds_the_gradient_norm():
    X, y = make_blobs(64, 4, 3, seed=1)
    loader = DataLoader(TensorDataset(X * 100, y), batch_size=64)
    model, _ = _setup()
    norms = []

    class Recorder(torch.optim.SGD):
        def step(self, closure=None):
            grads = [p.grad for g in self.param_groups for p in g["params"] if p.grad is not None]
            norms.append(float(torch.linalg.vector_norm(torch.stack([g.norm() for g in grads]))))
            return super().step(closure)

    fit(
        model,
        loader,
        nn.CrossEntropyLoss(),
        Recorder(model.parameters(), lr=1e-3),
        3,
        max_grad_norm=0.5,
    )
    assert max(norms) <= 0.5 + 1e-5


def test_fit_steps_the_scheduler_once_per_epoch():
    train, _ = _blobs_loaders()
    model, optimizer = _setup()
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=4)
    history = fit(model, train, nn.CrossEntropyLoss(), optimizer, 4, scheduler=scheduler)
    assert scheduler.last_epoch == 4
    expected = [1e-2 * (1 + math.cos(math.pi * t / 4)) / 2 for t in range(4)]
    assert history.lr == pytest.approx(expected)
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.0, abs=1e-12)


def test_fit_feeds_reduce_on_plateau_the_monitored_loss():
    train, val = _blobs_loaders()
    model, optimizer = _setup()
    seen = []

    class Plateau(torch.optim.lr_scheduler.ReduceLROnPlateau):
        def step(self, metrics, *args, **kwargs):
            seen.append(float(metrics))
            return super().step(metrics, *args, **kwargs)

    history = fit(
        model,
        train,
        nn.CrossEntropyLoss(),
        optimizer,
        3,
        scheduler=Plateau(optimizer),
        val_loader=val,
    )
    assert seen == history.val_loss


def test_fit_log_every_prints_the_articles_lines(capsys):
    train, val = _blobs_loaders()
    model, optimizer = _setup()
    history = fit(model, train, nn.CrossEntropyLoss(), optimizer, 4, log_every=2)
    out = capsys.readouterr().out.splitlines()
    assert out == [f"Epoch {e}, Loss: {history.train_loss[e - 1]:.4f}" for e in (2, 4)]
    fit(model, train, nn.CrossEntropyLoss(), optimizer, 1, log_every=1, val_loader=val)
    line = capsys.readouterr().out.strip()
    assert line.startswith("Epoch 1, Loss: ") and ", Val Loss: " in line and ", Val Acc: " in line


def test_fit_progress_bar_only_when_asked_or_on_a_terminal(capsys):
    train, _ = _blobs_loaders()
    model, optimizer = _setup()
    fit(model, train, nn.CrossEntropyLoss(), optimizer, 2)  # stderr is not a terminal here
    assert capsys.readouterr().err == ""
    fit(model, train, nn.CrossEntropyLoss(), optimizer, 2, progress=True)
    err = capsys.readouterr().err
    assert "2/2" in err and "epoch" in err
    fit(model, train, nn.CrossEntropyLoss(), optimizer, 2, progress=False)
    assert capsys.readouterr().err == ""


def test_fit_closes_its_progress_bar_when_training_raises(monkeypatch):
    import tqdm

    closed = []
    monkeypatch.setattr(tqdm.tqdm, "close", lambda self: closed.append(self.n))
    train, _ = _blobs_loaders()
    model, optimizer = _setup()

    def failing_loss(pred, target):
        if failing_loss.calls == 3:
            raise RuntimeError("loss blew up")
        failing_loss.calls += 1
        return nn.functional.cross_entropy(pred, target)

    failing_loss.calls = 0
    with pytest.raises(RuntimeError, match="loss blew up"):
        fit(model, train, failing_loss, optimizer, 5, progress=True)
        # (tqdm's own __del__ may close it once more, later)
    assert closed[:1] == [0]  # closed as the exception left fit, in the first epoch


def test_train_epoch_is_one_pass_of_the_loop():
    train, _ = _blobs_loaders()
    model, optimizer = _setup()
    torch.manual_seed(1)
    history = fit(model, train, nn.CrossEntropyLoss(), optimizer, 1)
    model, optimizer = _setup()
    torch.manual_seed(1)
    assert train_epoch(model, train, nn.CrossEntropyLoss(), optimizer) == history.train_loss[0]
    with pytest.raises(ValueError, match="loader is empty"):
        train_epoch(model, [], nn.CrossEntropyLoss(), optimizer)


def test_fit_moves_model_and_batches_to_the_device():
    train, val = _blobs_loaders()
    model, optimizer = _setup()
    history = fit(model, train, nn.CrossEntropyLoss(), optimizer, 1, device="cpu", val_loader=val)
    assert next(model.parameters()).device.type == "cpu" and history.epochs == 1


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_fit_on_cuda():
    train, val = _blobs_loaders()
    model, optimizer = _setup()
    history = fit(model, train, nn.CrossEntropyLoss(), optimizer, 3, device="cuda", val_loader=val)
    assert next(model.parameters()).is_cuda and history.val_accuracy[-1] > 0.5


@pytest.mark.parametrize("epochs", [0, -3, 1.5, True, "2"])
def test_fit_rejects_bad_epochs(epochs):
    train, _ = _blobs_loaders()
    model, optimizer = _setup()
    with pytest.raises(ValueError, match=r"epochs.*" + repr(epochs).replace(".", r"\.")):
        fit(model, train, nn.CrossEntropyLoss(), optimizer, epochs)


@pytest.mark.parametrize("norm", [0, -1.0, float("nan"), float("inf")])
def test_fit_rejects_bad_max_grad_norm(norm):
    train, _ = _blobs_loaders()
    model, optimizer = _setup()
    before = [p.clone() for p in model.parameters()]
    with pytest.raises(ValueError, match=f"max_grad_norm.*{norm}"):
        fit(model, train, nn.CrossEntropyLoss(), optimizer, 1, max_grad_norm=norm)
    assert all(torch.equal(p, q) for p, q in zip(model.parameters(), before, strict=True))


def test_fit_rejects_empty_loaders():
    model, optimizer = _setup()
    empty = DataLoader(TensorDataset(torch.empty(0, 4), torch.empty(0, dtype=torch.long)))
    with pytest.raises(ValueError, match="loader is empty"):
        fit(model, empty, nn.CrossEntropyLoss(), optimizer, 1)
    with pytest.raises(ValueError, match="loader is empty"):
        fit(model, iter([]), nn.CrossEntropyLoss(), optimizer, 1)  # no len(): found while running
    train, _ = _blobs_loaders()
    with pytest.raises(ValueError, match="val_loader is empty"):
        fit(model, train, nn.CrossEntropyLoss(), optimizer, 1, val_loader=empty)


def test_fit_rejects_bad_log_every_and_device():
    train, _ = _blobs_loaders()
    model, optimizer = _setup()
    with pytest.raises(ValueError, match=r"log_every.*0"):
        fit(model, train, nn.CrossEntropyLoss(), optimizer, 1, log_every=0)
    with pytest.raises(ValueError, match="device 'gpu0'"):
        fit(model, train, nn.CrossEntropyLoss(), optimizer, 1, device="gpu0")


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")
def test_unavailable_cuda_is_a_clear_error():
    with pytest.raises(ValueError, match="device 'cuda' is not available"):
        resolve_device("cuda")


def test_evaluate_multiclass_binary_and_mode_restored():
    class Fixed(nn.Module):
        def __init__(self, out):
            super().__init__()
            self.out = out
            self.dummy = nn.Linear(1, 1)

        def forward(self, x):
            return self.out[: len(x)]

    logits = torch.tensor([[2.0, 0.0], [0.0, 2.0], [2.0, 0.0], [0.0, 2.0]])
    loader = [(torch.zeros(4, 1), torch.tensor([0, 1, 1, 1]))]
    model = Fixed(logits)
    model.train()
    result = evaluate(model, loader, nn.CrossEntropyLoss())
    assert result.accuracy == 0.75 and result.samples == 4
    assert result.loss == pytest.approx(nn.CrossEntropyLoss()(logits, loader[0][1]).item())
    assert model.training
    model.eval()
    binary = Fixed(torch.tensor([[1.0], [-1.0], [3.0]]))
    res = evaluate(binary, [(torch.zeros(3, 1), torch.tensor([[1.0], [0.0], [0.0]]))])
    assert res.accuracy == pytest.approx(2 / 3) and res.loss is None


def test_evaluate_loss_is_a_per_sample_mean_over_uneven_batches():
    X, y = make_blobs(10, 4, 3, seed=2)
    model, _ = _setup()
    model.eval()
    criterion = nn.CrossEntropyLoss()
    whole = criterion(model(X), y).item()
    result = evaluate(model, DataLoader(TensorDataset(X, y), batch_size=4), criterion)
    assert result.loss == pytest.approx(whole, rel=1e-6)


def test_set_seed_makes_runs_repeatable():
    import random

    set_seed(5)
    a = (torch.rand(3), random.random())
    set_seed(5)
    b = (torch.rand(3), random.random())
    assert torch.equal(a[0], b[0]) and a[1] == b[1]
    with pytest.raises(TypeError, match="seed"):
        set_seed(1.5)
