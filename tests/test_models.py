import pytest
import torch
import torch.nn as nn

from nnbasics.models import MLP, ConvBlock, Perceptron, RegularizedMLP, make_classifier
from testkit.article import article_model


def test_perceptron_is_sigmoid_of_linear():
    torch.manual_seed(0)
    model = Perceptron(input_dim=3)
    x = torch.randn(5, 3)
    out = model(x)
    assert out.shape == (5, 1)
    assert torch.all((out > 0) & (out < 1))
    expected = torch.sigmoid(x @ model.linear.weight.T + model.linear.bias)
    torch.testing.assert_close(out, expected)
    # the article's single-sample use: a 1-D input gives one output
    assert model(torch.tensor([1.0, 2.0, 3.0])).shape == (1,)


def test_mlp_matches_its_definition():
    torch.manual_seed(0)
    model = MLP(10, 64, 1)
    x = torch.randn(32, 10)
    expected = model.fc2(nn.functional.gelu(model.fc1(x)))
    torch.testing.assert_close(model(x), expected)
    assert model.fc1.weight.shape == (64, 10)
    assert model(x).shape == (32, 1)


def test_mlp_backward_fills_every_gradient():
    torch.manual_seed(0)
    model = MLP(10, 64, 1)
    loss = nn.BCEWithLogitsLoss()(model(torch.randn(32, 10)), torch.ones(32, 1))
    loss.backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and p.grad.shape == p.shape, name
    assert model.fc1.weight.grad.shape == torch.Size([64, 10])


def test_convblock_shapes_and_relu():
    torch.manual_seed(0)
    block = ConvBlock(3, 16)
    out = block(torch.randn(4, 3, 8, 8))
    assert out.shape == (4, 16, 8, 8)
    assert torch.all(out >= 0)
    assert isinstance(block.bn, nn.BatchNorm2d) and block.conv.padding == (1, 1)


def test_convblock_train_updates_running_stats_eval_uses_them():
    torch.manual_seed(0)
    block = ConvBlock(2, 4)
    x = torch.randn(8, 2, 5, 5) + 3
    block.train()
    block(x)
    assert int(block.bn.num_batches_tracked) == 1
    running = block.bn.running_mean.clone()
    block.eval()
    block(x)
    assert torch.equal(block.bn.running_mean, running)
    assert int(block.bn.num_batches_tracked) == 1


def test_regularized_mlp_dropout_train_vs_eval():
    torch.manual_seed(0)
    model = RegularizedMLP(784, 256, 10)
    assert [type(m) for m in model.net] == [
        nn.Linear,
        nn.ReLU,
        nn.Dropout,
        nn.Linear,
        nn.ReLU,
        nn.Dropout,
        nn.Linear,
    ]
    assert model.net[2].p == 0.5
    x = torch.randn(4, 784)
    model.train()
    assert not torch.equal(model(x), model(x))
    model.eval()
    assert torch.equal(model(x), model(x))
    assert model(x).shape == (4, 10)


def test_regularized_mlp_custom_rate():
    model = RegularizedMLP(4, 8, 2, dropout_rate=0.1)
    assert model.net[2].p == 0.1 and model.net[5].p == 0.1


def test_make_classifier_is_the_articles_network():
    torch.manual_seed(0)
    ours = make_classifier()
    torch.manual_seed(0)
    article = article_model()
    assert repr(ours) == repr(article)
    for (name, p), (name2, q) in zip(
        ours.state_dict().items(), article.state_dict().items(), strict=True
    ):
        assert name == name2
        assert torch.equal(p, q), name


def test_make_classifier_options_and_errors():
    model = make_classifier(input_dim=3, hidden_dims=[7], num_classes=2, dropout=0.0)
    assert model(torch.randn(5, 3)).shape == (5, 2)
    with pytest.raises(ValueError, match="hidden_dims"):
        make_classifier(hidden_dims=())
    with pytest.raises(ValueError, match=r"dropout.*1\.5"):
        make_classifier(dropout=1.5)
