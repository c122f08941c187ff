"""nnbasics.testing: the bounds the pages print, and the capability switch the docs tests use."""

import math

import pytest
import torch

from docsite import markdown, runs
from nnbasics.testing import below, max_abs_diff


def test_max_abs_diff():
    a = torch.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=torch.float64)
    b = torch.tensor([[1.0, 2.5], [2.0, 4.0]], dtype=torch.float64)
    assert max_abs_diff(a, b) == 1.0
    assert max_abs_diff(torch.empty(0, 3), torch.empty(0, 3)) == 0.0
    x = torch.ones(2, requires_grad=True)
    assert max_abs_diff(x * 2, torch.full((2,), 2.0)) == 0.0  # no grad needed
    assert math.isnan(max_abs_diff(torch.tensor([math.nan]), torch.tensor([0.0])))


def test_max_abs_diff_refuses_broadcasting():
    with pytest.raises(ValueError, match=r"same shape, got \(3,\) and \(1, 3\)"):
        max_abs_diff(torch.zeros(3), torch.zeros(1, 3))


@pytest.mark.parametrize(
    ("value", "bound", "text"),
    [
        (6.5e-16, 1e-13, "< 1e-13"),
        (0.0, 1e-6, "< 1e-6"),
        (2e-8, 1e-6, "< 1e-6"),
        (1e-13, 1e-13, "1.0e-13"),  # at the bound: not below it
        (3.2e-9, 1e-12, "3.2e-09"),
        (math.nan, 1e-12, "nan"),
        (1e-3, 5e-2, "< 5e-2"),
    ],
)
def test_below(value, bound, text):
    assert below(value, bound) == text


@pytest.mark.parametrize("bound", [0.0, -1e-12, math.inf, math.nan])
def test_below_refuses_a_bad_bound(bound):
    with pytest.raises(ValueError, match="bound must be a positive finite number"):
        below(1.0, bound)


@pytest.mark.processes
def test_blocks_can_run_with_another_instruction_set():
    """The docs tests rerun every block with ATEN_CPU_CAPABILITY=default: it must take effect."""
    fence = markdown.Fence(
        markdown.ROOT / "x.md",
        0,
        2,
        "",
        "```",
        "python",
        ["import torch", "print(torch.backends.cpu.get_cpu_capability())"],
    )
    plain = {"DEFAULT\n", "NO AVX\n"}  # PyTorch 2.6 calls them "NO AVX"
    assert runs.run_block(fence, runs.Config("default", 1)).stdout in plain
    assert runs.run_block(fence).stdout not in plain
