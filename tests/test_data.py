import pytest
import torch

from nnbasics.data import make_blobs, make_random_classification, make_xor


def test_random_classification_shapes_and_range():
    X, y = make_random_classification()
    assert X.shape == (1000, 20) and X.dtype == torch.float32
    assert y.shape == (1000,) and y.dtype == torch.int64
    assert int(y.min()) >= 0 and int(y.max()) <= 4


def test_random_classification_is_deterministic_and_isolated():
    torch.manual_seed(123)
    before = torch.get_rng_state()
    a = make_random_classification(seed=7)
    assert torch.equal(torch.get_rng_state(), before)  # global RNG untouched
    b = make_random_classification(seed=7)
    c = make_random_classification(seed=8)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[0], c[0])


def test_seed_none_reproduces_the_articles_global_draws():
    torch.manual_seed(0)
    X_article = torch.randn(1000, 20)
    y_article = torch.randint(0, 5, (1000,))
    torch.manual_seed(0)
    X, y = make_random_classification(1000, 20, 5, seed=None)
    assert torch.equal(X, X_article) and torch.equal(y, y_article)
    # and a private generator seeded the same way gives the same stream
    X2, y2 = make_random_classification(1000, 20, 5, seed=0)
    assert torch.equal(X2, X_article) and torch.equal(y2, y_article)


def test_xor_corners_and_noisy_samples():
    X, y = make_xor()
    assert X.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
    assert y.tolist() == [0, 1, 1, 0]
    Xn, yn = make_xor(200, noise=0.05, seed=3)
    assert Xn.shape == (200, 2) and yn.shape == (200,)
    # every noisy point is near a corner whose XOR is its label
    corner = Xn.round()
    assert torch.equal((corner[:, 0] != corner[:, 1]).float(), yn)
    assert torch.equal(make_xor(200, noise=0.05, seed=3)[0], Xn)


def test_blobs_are_learnable_by_nearest_centre():
    X, y = make_blobs(600, 2, 3, spread=0.5, seed=0)
    centres = torch.stack([X[y == k].mean(0) for k in range(3)])
    pred = torch.cdist(X, centres).argmin(1)
    assert (pred == y).float().mean() > 0.9


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: make_random_classification(0), "n_samples"),
        (lambda: make_random_classification(10, n_classes=-1), "n_classes"),
        (lambda: make_xor(5, noise=-1.0), "noise"),
        (lambda: make_blobs(spread=0.0), "spread"),
        (lambda: make_blobs(n_features=2.5), "n_features"),
    ],
)
def test_bad_arguments_name_themselves(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_bad_seed_type():
    with pytest.raises(TypeError, match="seed"):
        make_random_classification(seed="0")
