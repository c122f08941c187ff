"""nnbasics.nn, nnbasics.optim and nnbasics.autograd against PyTorch."""

from __future__ import annotations

import itertools
import math

import pytest
import torch
import torch.nn as tnn

from nnbasics import autograd, nn, optim
from nnbasics.models import MLP
from nnbasics.training import fit

D = torch.float64


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (nn.ReLU(), tnn.ReLU()),
        (nn.LeakyReLU(0.2), tnn.LeakyReLU(0.2)),
        (nn.Sigmoid(), tnn.Sigmoid()),
        (nn.Tanh(), tnn.Tanh()),
        (nn.GELU(), tnn.GELU()),
        (nn.SiLU(), tnn.SiLU()),
        (nn.GELU("tanh"), tnn.GELU("tanh")),
    ],
)
def test_activation_modules(ours, theirs):
    x = torch.randn(4, 3, dtype=D)
    torch.testing.assert_close(ours(x), theirs(x))


def test_prelu_learns_its_slope_like_torch():
    ours, theirs = nn.PReLU(3).double(), tnn.PReLU(3).double()
    assert ours.state_dict().keys() == theirs.state_dict().keys()
    x = torch.randn(5, 3, dtype=D)
    ours(x).sum().backward()
    theirs(x).sum().backward()
    torch.testing.assert_close(ours.weight.grad, theirs.weight.grad)


@pytest.mark.parametrize(
    ("cls", "tcls", "shape"),
    [
        (nn.BatchNorm1d, tnn.BatchNorm1d, (8, 4)),
        (nn.BatchNorm1d, tnn.BatchNorm1d, (8, 4, 3)),
        (nn.BatchNorm2d, tnn.BatchNorm2d, (6, 4, 3, 3)),
    ],
)
@pytest.mark.parametrize("momentum", [0.1, None])
def test_batchnorm_modules_train_eval_and_state_dict(cls, tcls, shape, momentum):
    torch.manual_seed(0)
    theirs = tcls(4, momentum=momentum).double()
    ours = cls(4, momentum=momentum).double()
    for _ in range(3):
        x = torch.randn(shape, dtype=D) * 3 + 1
        torch.testing.assert_close(ours(x), theirs(x))
    assert ours.state_dict().keys() == theirs.state_dict().keys()
    for key, value in theirs.state_dict().items():
        torch.testing.assert_close(ours.state_dict()[key], value)
    ours.eval()
    theirs.eval()
    x = torch.randn(shape, dtype=D)
    torch.testing.assert_close(ours(x), theirs(x))
    fresh = cls(4).double()
    fresh.load_state_dict(theirs.state_dict())  # a torch state_dict loads into ours
    fresh.eval()
    torch.testing.assert_close(fresh(x), theirs(x))
    with pytest.raises(ValueError, match="expected"):
        ours(torch.randn(2, 4, 1, 1, 1, dtype=D))


def test_batchnorm_without_running_stats_or_affine():
    ours, theirs = (
        nn.BatchNorm1d(3, affine=False, track_running_stats=False),
        tnn.BatchNorm1d(3, affine=False, track_running_stats=False),
    )
    x = torch.randn(5, 3)
    ours.eval()
    theirs.eval()
    torch.testing.assert_close(ours(x), theirs(x))
    assert ours.state_dict().keys() == theirs.state_dict().keys()


def test_layernorm_groupnorm_dropout_modules():
    torch.manual_seed(0)
    x = torch.randn(2, 6, 5, dtype=D)
    torch.testing.assert_close(nn.LayerNorm(5).double()(x), tnn.LayerNorm(5).double()(x))
    torch.testing.assert_close(nn.GroupNorm(3, 6).double()(x), tnn.GroupNorm(3, 6).double()(x))
    assert nn.LayerNorm([6, 5]).state_dict().keys() == tnn.LayerNorm([6, 5]).state_dict().keys()
    for kw in ({"bias": False}, {"elementwise_affine": False}):
        ours_ln, theirs_ln = nn.LayerNorm(5, **kw).double(), tnn.LayerNorm(5, **kw).double()
        assert ours_ln.state_dict().keys() == theirs_ln.state_dict().keys()
        assert ours_ln.bias is None
        torch.testing.assert_close(ours_ln(x), theirs_ln(x))
    with pytest.raises(ValueError, match=r"num_channels \(6\).*num_groups \(4\)"):
        nn.GroupNorm(4, 6)
    ours, theirs = nn.Dropout(0.3), tnn.Dropout(0.3)
    torch.manual_seed(3)
    a = ours(x)
    torch.manual_seed(3)
    torch.testing.assert_close(a, theirs(x))
    ours.eval()
    assert torch.equal(ours(x), x)
    with pytest.raises(ValueError, match=r"got 1\.2"):
        nn.Dropout(1.2)


def _trajectory(make, steps=25):
    torch.manual_seed(0)
    w = torch.randn(5, 3, dtype=D, requires_grad=True)
    b = torch.randn(3, dtype=D, requires_grad=True)
    X = torch.randn(20, 5, dtype=D)
    opt = make([{"params": [w]}, {"params": [b], "lr": 0.05}])
    for _ in range(steps):
        opt.zero_grad()
        loss = ((X @ w + b).tanh() ** 2).sum()
        loss.backward()
        opt.step()
    return torch.cat([w.detach().flatten(), b.detach()]), opt


SGD_OPTIONS = [
    dict(momentum=m, dampening=d, weight_decay=wd, nesterov=n, maximize=mx)
    for m, d, wd, n, mx in itertools.product(
        [0.0, 0.9], [0.0, 0.3], [0.0, 0.1], [False, True], [False, True]
    )
    if not (n and (m == 0 or d != 0))
]


@pytest.mark.parametrize("kw", SGD_OPTIONS, ids=str)
def test_sgd_trajectory_equals_torch(kw):
    ours, _ = _trajectory(lambda p: optim.SGD(p, lr=0.01, **kw))
    theirs, _ = _trajectory(lambda p: torch.optim.SGD(p, lr=0.01, foreach=False, **kw))
    torch.testing.assert_close(ours, theirs, rtol=1e-12, atol=1e-12)


ADAM_OPTIONS = [
    dict(weight_decay=wd, amsgrad=a, maximize=m)
    for wd, a, m in itertools.product([0.0, 0.1], [False, True], [False, True])
]


@pytest.mark.parametrize("kw", ADAM_OPTIONS, ids=str)
@pytest.mark.parametrize(
    ("ours_cls", "torch_cls"), [(optim.Adam, torch.optim.Adam), (optim.AdamW, torch.optim.AdamW)]
)
def test_adam_and_adamw_trajectories_equal_torch(kw, ours_cls, torch_cls):
    ours, opt = _trajectory(lambda p: ours_cls(p, lr=0.01, betas=(0.8, 0.95), eps=1e-6, **kw))
    theirs, topt = _trajectory(
        lambda p: torch_cls(p, lr=0.01, betas=(0.8, 0.95), eps=1e-6, foreach=False, **kw)
    )
    torch.testing.assert_close(ours, theirs, rtol=1e-12, atol=1e-12)
    # state_dict round trip: a fresh optimizer continues exactly where this one was
    state = opt.state_dict()
    assert state["state"][0].keys() == topt.state_dict()["state"][0].keys()


RMSPROP_OPTIONS = [
    dict(alpha=a, weight_decay=wd, momentum=m, centered=c, maximize=mx)
    for a, wd, m, c, mx in itertools.product(
        [0.99, 0.5], [0.0, 0.1], [0.0, 0.9], [False, True], [False, True]
    )
]


@pytest.mark.parametrize("kw", RMSPROP_OPTIONS, ids=str)
def test_rmsprop_trajectory_equals_torch(kw):
    ours, opt = _trajectory(lambda p: optim.RMSprop(p, lr=0.01, eps=1e-6, **kw))
    theirs, topt = _trajectory(
        lambda p: torch.optim.RMSprop(p, lr=0.01, eps=1e-6, foreach=False, **kw)
    )
    torch.testing.assert_close(ours, theirs, rtol=1e-12, atol=1e-12)
    assert opt.state_dict()["state"][0].keys() == topt.state_dict()["state"][0].keys()
    assert opt.state_dict()["param_groups"][0].keys() <= topt.state_dict()["param_groups"][0].keys()


def test_rmsprop_defaults_are_torchs():
    import inspect

    ours = inspect.signature(optim.RMSprop.__init__).parameters
    theirs = inspect.signature(torch.optim.RMSprop.__init__).parameters
    for name in ("lr", "alpha", "eps", "weight_decay", "momentum", "centered", "maximize"):
        assert ours[name].default == theirs[name].default, name


def test_optimizer_state_dict_round_trip_continues_identically():
    def run(split):
        torch.manual_seed(0)
        w = torch.randn(4, dtype=D, requires_grad=True)
        opt = optim.AdamW([w], lr=0.1, amsgrad=True)
        for step in range(20):
            if step == split:
                saved = opt.state_dict()
                opt = optim.AdamW([w], lr=0.1, amsgrad=True)
                opt.load_state_dict(saved)
            opt.zero_grad()
            (w.sin() ** 2).sum().backward()
            opt.step()
        return w.detach()

    torch.testing.assert_close(run(split=-1), run(split=10), rtol=0, atol=0)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda p: optim.SGD(p, lr=-1.0), "learning rate: -1.0"),
        (lambda p: optim.SGD(p, momentum=-0.5), "momentum value: -0.5"),
        (lambda p: optim.SGD(p, weight_decay=-1), "weight_decay value: -1"),
        (lambda p: optim.SGD(p, nesterov=True), "Nesterov"),
        (lambda p: optim.SGD(p, momentum=0.9, dampening=0.1, nesterov=True), "dampening=0.1"),
        (lambda p: optim.Adam(p, eps=-1e-8), "epsilon value: -1e-08"),
        (lambda p: optim.Adam(p, betas=(1.0, 0.9)), "index 0: 1.0"),
        (lambda p: optim.AdamW(p, betas=(0.9, -0.1)), "index 1: -0.1"),
        (lambda p: optim.AdamW(p, weight_decay=-0.01), "weight_decay value: -0.01"),
        (lambda p: optim.RMSprop(p, alpha=-0.1), "alpha value: -0.1"),
        (lambda p: optim.RMSprop(p, eps=-1.0), "epsilon value: -1.0"),
        (lambda p: optim.RMSprop(p, momentum=-1.0), "momentum value: -1.0"),
        (lambda p: optim.RMSprop(p, weight_decay=-1.0), "weight_decay value: -1.0"),
    ],
)
def test_optimizer_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match.replace("(", r"\(").replace(".", r"\.")):
        make([torch.zeros(2, requires_grad=True)])


def test_cosine_schedule_equals_torch_and_works_in_fit():
    p = torch.nn.Parameter(torch.zeros(1))
    o1, o2 = torch.optim.SGD([p], lr=1.0), torch.optim.SGD([p], lr=1.0)
    s1 = optim.CosineAnnealingLR(o1, T_max=10, eta_min=0.1)
    s2 = torch.optim.lr_scheduler.CosineAnnealingLR(o2, T_max=10, eta_min=0.1)
    for _ in range(25):
        o1.step()
        o2.step()
        s1.step()
        s2.step()
        assert s1.get_last_lr()[0] == pytest.approx(s2.get_last_lr()[0], abs=1e-12)
    assert s1.state_dict()["T_max"] == 10
    with pytest.raises(ValueError, match="T_max"):
        optim.CosineAnnealingLR(o1, T_max=0)
    # usable wherever torch's are: through nnbasics.training.fit
    X, y = torch.randn(64, 4), torch.randint(0, 2, (64,))
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y), batch_size=16)
    model = MLP(4, 8, 2)
    opt = optim.AdamW(model.parameters(), lr=1e-2)
    history = fit(
        model,
        loader,
        tnn.CrossEntropyLoss(),
        opt,
        4,
        scheduler=optim.CosineAnnealingLR(opt, T_max=4),
    )
    assert history.lr == pytest.approx(
        [1e-2 * (1 + math.cos(math.pi * t / 4)) / 2 for t in range(4)]
    )


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh", "gelu"])
def test_manual_backprop_equals_loss_backward(activation):
    torch.manual_seed(0)
    model = MLP(10, 16, 3).double()
    if activation != "gelu":
        model.gelu = {"relu": tnn.ReLU(), "sigmoid": tnn.Sigmoid(), "tanh": tnn.Tanh()}[activation]
    x = torch.randn(8, 10, dtype=D, requires_grad=True)
    y = torch.randint(0, 3, (8,))
    out = model(x)
    loss = tnn.functional.cross_entropy(out, y)
    loss.backward()
    manual = autograd.TwoLayerMLP.from_module(model, activation)
    out2 = manual(x.detach())
    torch.testing.assert_close(out2, out.detach())
    grad_out = (torch.softmax(out2, 1) - tnn.functional.one_hot(y, 3)) / len(y)
    grads = manual.backward(grad_out)
    for name, p in model.named_parameters():
        torch.testing.assert_close(grads[name], p.grad, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(grads["input"], x.grad, rtol=1e-10, atol=1e-12)


def test_numerical_gradient_checks_autograd():
    x = torch.randn(3, 2, dtype=D, requires_grad=True)

    def f(t):
        return (t.sin() * t.exp()).sum()

    (auto,) = torch.autograd.grad(f(x), x)
    torch.testing.assert_close(autograd.numerical_gradient(f, x), auto, rtol=1e-7, atol=1e-8)
    with pytest.raises(ValueError, match="eps"):
        autograd.numerical_gradient(f, x, eps=0)


def test_value_engine_matches_torch():
    a, b = autograd.Value(1.5), autograd.Value(-0.7)
    out = (a * b + a**2).tanh() + (b * 3).exp() - a / b + (a - 4).relu() * 2
    out.backward()
    ta = torch.tensor(1.5, dtype=D, requires_grad=True)
    tb = torch.tensor(-0.7, dtype=D, requires_grad=True)
    tout = (ta * tb + ta**2).tanh() + (tb * 3).exp() - ta / tb + torch.relu(ta - 4) * 2
    tout.backward()
    assert out.data == pytest.approx(tout.item(), rel=1e-12)
    assert a.grad == pytest.approx(ta.grad.item(), rel=1e-12)
    assert b.grad == pytest.approx(tb.grad.item(), rel=1e-12)


def test_value_mlp_learns_xor():
    mlp = autograd.ValueMLP(2, 4, seed=0)
    data = [((0.0, 0.0), -1.0), ((0.0, 1.0), 1.0), ((1.0, 0.0), 1.0), ((1.0, 1.0), -1.0)]
    first = None
    for _ in range(200):
        loss = sum(((mlp(x) - y) ** 2 for x, y in data), autograd.Value(0.0))
        first = first if first is not None else loss.data
        for p in mlp.parameters():
            p.grad = 0.0
        loss.backward()
        for p in mlp.parameters():
            p.data -= 0.05 * p.grad
    assert loss.data < 0.05 < first
    assert all((mlp(x).data > 0) == (y > 0) for x, y in data)


def _rates(make, steps: int = 40) -> list[list[float]]:
    """The learning rate of each of two param groups before each of ``steps`` steps."""
    a, b = torch.nn.Parameter(torch.zeros(1)), torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([{"params": [a], "lr": 0.1}, {"params": [b], "lr": 0.03}], lr=1.0)
    scheduler = make(opt)
    rates = []
    for _ in range(steps):
        rates.append([g["lr"] for g in opt.param_groups])
        opt.step()
        scheduler.step()
    return rates


LS = torch.optim.lr_scheduler
LINEAR_OPTIONS = [
    {},
    dict(start_factor=0.1, total_iters=10),
    dict(start_factor=0.01, end_factor=1.0, total_iters=1),
    dict(start_factor=1.0, end_factor=0.0, total_iters=25),
    dict(start_factor=0.25, end_factor=0.5, total_iters=7),
]


@pytest.mark.parametrize("kw", LINEAR_OPTIONS, ids=str)
def test_linear_schedule_equals_torch(kw):
    ours = _rates(lambda o: optim.LinearLR(o, **kw))
    theirs = _rates(lambda o: LS.LinearLR(o, **kw))
    torch.testing.assert_close(ours, theirs, rtol=1e-12, atol=1e-15)


def test_linear_schedule_defaults_are_torchs():
    import inspect

    ours = inspect.signature(optim.LinearLR.__init__).parameters
    theirs = inspect.signature(LS.LinearLR.__init__).parameters
    for name in ("start_factor", "end_factor", "total_iters", "last_epoch"):
        assert ours[name].default == theirs[name].default, name


def _warmup_cosine(lib, warmup: int, total: int, start: float, eta_min: float):
    return lambda o: lib.SequentialLR(
        o,
        [
            lib.LinearLR(o, start_factor=start, total_iters=warmup),
            lib.CosineAnnealingLR(o, T_max=total - warmup, eta_min=eta_min),
        ],
        milestones=[warmup],
    )


@pytest.mark.parametrize(
    ("warmup", "total", "start", "eta_min"),
    [(5, 40, 0.1, 0.0), (1, 10, 0.5, 1e-3), (10, 30, 0.01, 1e-4), (3, 4, 1 / 3, 0.0)],
)
def test_warmup_then_cosine_equals_torch(warmup, total, start, eta_min):
    ours = _rates(_warmup_cosine(optim, warmup, total, start, eta_min), steps=total + 5)
    theirs = _rates(_warmup_cosine(LS, warmup, total, start, eta_min), steps=total + 5)
    torch.testing.assert_close(ours, theirs, rtol=1e-12, atol=1e-15)
    # the warmup climbs to the base rate, the cosine brings it down to eta_min
    assert ours[0][0] == pytest.approx(0.1 * start)
    assert ours[warmup][0] == pytest.approx(0.1)
    assert ours[total][0] == pytest.approx(eta_min + 0.0, abs=1e-15)


def test_sequential_schedule_of_three_torch_schedules_equals_torch():
    def make(lib):
        return lambda o: lib.SequentialLR(
            o,
            [
                LS.LinearLR(o, 0.1, total_iters=3),
                LS.ConstantLR(o, 0.5, total_iters=4),
                LS.ExponentialLR(o, gamma=0.9),
            ],
            milestones=[3, 9],
        )

    torch.testing.assert_close(_rates(make(optim)), _rates(make(LS)), rtol=1e-12, atol=1e-15)


def test_sequential_schedule_state_dict_round_trip_continues_identically():
    def run(split):
        p = torch.nn.Parameter(torch.zeros(1))
        opt = torch.optim.SGD([p], lr=0.1)
        scheduler = _warmup_cosine(optim, 5, 30, 0.1, 0.0)(opt)
        rates = []
        for step in range(30):
            if step == split:
                saved_opt, saved = opt.state_dict(), scheduler.state_dict()
                opt = torch.optim.SGD([p], lr=0.1)
                scheduler = _warmup_cosine(optim, 5, 30, 0.1, 0.0)(opt)
                opt.load_state_dict(saved_opt)
                scheduler.load_state_dict(saved)
            rates.append(opt.param_groups[0]["lr"])
            opt.step()
            scheduler.step()
        return rates

    assert run(split=-1) == run(split=12)


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda o: optim.LinearLR(o, start_factor=0.0), ValueError, "start_factor .* 0.0"),
        (lambda o: optim.LinearLR(o, end_factor=1.5), ValueError, "end_factor .* 1.5"),
        (lambda o: optim.LinearLR(o, total_iters=0), ValueError, "total_iters .* 0"),
        (lambda o: optim.SequentialLR(o, [], []), ValueError, "schedulers must not be empty"),
        (
            lambda o: optim.SequentialLR(o, [LS.LinearLR(o), LS.LinearLR(o)], [2, 4]),
            ValueError,
            r"milestones must have .* got 2: \[2, 4\]",
        ),
        (
            lambda o: optim.SequentialLR(o, [LS.LinearLR(o), LS.LinearLR(o)], [0]),
            ValueError,
            r"increasing positive ints, got \[0\]",
        ),
        (
            lambda o: optim.SequentialLR(o, [LS.LinearLR(o), LS.LambdaLR(o, lambda t: 1)], [2]),
            TypeError,
            r"schedulers\[1\] \(LambdaLR\) has no closed form",
        ),
        (
            lambda o: optim.SequentialLR(
                o, [LS.LinearLR(torch.optim.SGD([torch.zeros(1, requires_grad=True)]))], []
            ),
            ValueError,
            r"schedulers\[0\] does not belong",
        ),
    ],
)
def test_schedule_bad_arguments(make, error, match):
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    with pytest.raises(error, match=match):
        make(opt)


def test_weight_decay_groups_exempt_biases_and_norm_parameters():
    model = tnn.Sequential(tnn.Linear(4, 8), tnn.BatchNorm1d(8), tnn.ReLU(), tnn.Linear(8, 2))
    model[0].bias.requires_grad_(False)
    groups = optim.weight_decay_groups(model, 0.1)
    decayed, exempt = ({id(p) for p in g["params"]} for g in groups)
    assert decayed == {id(model[0].weight), id(model[3].weight)}
    assert exempt == {id(model[1].weight), id(model[1].bias), id(model[3].bias)}
    assert [g["weight_decay"] for g in groups] == [0.1, 0.0]
    # one AdamW step with zero gradients: only the decayed parameters shrink, by lr * wd
    before = [p.detach().clone() for p in model.parameters()]
    opt = torch.optim.AdamW(groups, lr=0.5)
    for p in model.parameters():
        p.grad = torch.zeros_like(p)
    opt.step()
    for p, old in zip(model.parameters(), before, strict=True):
        expected = old * (1 - 0.5 * 0.1) if p.ndim >= 2 else old
        torch.testing.assert_close(p.detach(), expected, rtol=0, atol=0)
    # a model with no bias: no empty group
    assert len(optim.weight_decay_groups(tnn.Linear(3, 3, bias=False), 0.01)) == 1
    for bad in (-0.1, math.inf, math.nan, True):
        with pytest.raises(ValueError, match=f"weight_decay must be .* got {bad!r}"):
            optim.weight_decay_groups(model, bad)
