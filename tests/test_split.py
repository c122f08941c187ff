"""nnbasics.data.random_split against torch.utils.data.random_split: the same subsets (indices
and order) for the same generator, PyTorch's rule for fractional lengths, clear errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from torch.utils.data import Subset, TensorDataset
from torch.utils.data import random_split as torch_random_split

from nnbasics.data import random_split

CASES = [
    (10, [3, 7]),
    (10, [10]),
    (10, [0, 10]),
    (10, [4, 0, 6]),
    (100, [60, 20, 20]),
    (1, [1]),
    (0, []),
    (30, [0.3, 0.3, 0.4]),
    (10, [0.7, 0.2, 0.1]),
    (11, [0.5, 0.3, 0.2]),  # floor gives 5 + 3 + 2 = 10: one left over, to the first
    (7, [0.1] * 10),  # sums to 0.9999999999999999: still fractions; 7 left over, round robin
    (10, [0.1] * 10),
    (100, [0.2] * 5),
    (13, [0.25, 0.25, 0.25, 0.25]),
    (101, [0.8, 0.1, 0.1]),
    (5, [1]),  # PyTorch reads a sum of 1 as fractions: [1] is the whole set
    (5, [0, 1]),
    (1000, [0.333, 0.333, 0.334]),
]


def _indices(subsets: list[Subset]) -> list[list[int]]:
    return [list(s.indices) for s in subsets]


def _both(n, lengths, seed):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # empty subsets warn on both sides
        ours = random_split(range(n), lengths, generator=torch.Generator().manual_seed(seed))
        theirs = torch_random_split(
            range(n), lengths, generator=torch.Generator().manual_seed(seed)
        )
    return ours, theirs


@pytest.mark.parametrize("seed", [0, 1, 42, 2**40])
@pytest.mark.parametrize(("n", "lengths"), CASES)
def test_same_subsets_as_torch(n, lengths, seed):
    ours, theirs = _both(n, lengths, seed)
    assert all(isinstance(s, Subset) for s in ours)
    assert _indices(ours) == _indices(theirs)


@pytest.mark.parametrize(("n", "lengths"), CASES)
def test_subsets_partition_the_dataset(n, lengths):
    ours, _ = _both(n, lengths, 0)
    flat = [i for s in _indices(ours) for i in s]
    assert sorted(flat) == list(range(n))
    assert len(ours) == len(lengths)


def test_fractional_lengths_follow_pytorchs_remainder_rule():
    ours, _ = _both(11, [0.5, 0.3, 0.2], 0)
    assert [len(s) for s in ours] == [6, 3, 2]
    ours, _ = _both(7, [0.1] * 10, 0)
    assert [len(s) for s in ours] == [1] * 7 + [0] * 3


def test_the_global_generator_by_default():
    torch.manual_seed(3)
    ours = random_split(range(20), [5, 15])
    torch.manual_seed(3)
    theirs = torch_random_split(range(20), [5, 15])
    assert _indices(ours) == _indices(theirs)
    torch.manual_seed(3)
    assert _indices(random_split(range(20), [5, 15], generator=None)) == _indices(theirs)


def test_the_generator_advances_as_torchs_does():
    g_ours, g_theirs = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    for lengths in ([3, 7], [0.5, 0.5], [2, 2, 6]):
        ours = random_split(range(10), lengths, generator=g_ours)
        theirs = torch_random_split(range(10), lengths, generator=g_theirs)
        assert _indices(ours) == _indices(theirs)


def test_subsets_index_the_dataset():
    X, y = torch.arange(20.0).reshape(10, 2), torch.arange(10)
    train, val = random_split(
        TensorDataset(X, y), [0.8, 0.2], generator=torch.Generator().manual_seed(0)
    )
    assert len(train) == 8 and len(val) == 2
    x0, y0 = val[0]
    assert torch.equal(x0, X[val.indices[0]]) and int(y0) == val.indices[0]


def test_numpy_ints_are_sizes():
    ours, theirs = _both(10, [np.int64(3), np.int64(7)], 0)
    assert _indices(ours) == _indices(theirs)


def test_an_empty_subset_warns_like_torch():
    with pytest.warns(UserWarning, match="subset 0"):
        random_split(range(5), [0, 1])


@pytest.mark.parametrize(
    ("lengths", "message"),
    [
        ([3, 6], r"lengths must sum to len\(dataset\) = 10 .*got \[3, 6\] with sum 9"),
        ([0.5, 0.4], r"lengths must sum to len\(dataset\) = 10 .*got \[0.5, 0.4\]"),
        ([1.5, -0.5], r"lengths\[0\] must be a fraction in \[0, 1\], got 1.5"),
        ([-1, 11], r"lengths\[0\] must be an int >= 0 .*got -1"),
        ([2.5, 7.5], r"lengths\[0\] must be an int >= 0 .*got 2.5"),
        ([3.0, 7.0], r"lengths\[0\] must be an int >= 0 .*got 3.0"),
        ([4, "6"], r"lengths\[1\] must be an int or a fraction, got '6'"),
        ([True, 9], r"lengths\[0\] must be an int or a fraction, got True"),
        ([float("nan"), 10], r"lengths must sum to len\(dataset\) = 10 .*with sum nan"),
        ([-1.0, 11], r"lengths\[0\] must be an int >= 0 .*got -1.0"),
    ],
)
def test_invalid_lengths_name_the_argument_and_value(lengths, message):
    with pytest.raises(ValueError, match=message):
        random_split(range(10), lengths)
