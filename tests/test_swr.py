"""Tests of Scalable Weight Reparametrization (analysis.mtl.swr) and the transfer stages."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from test_mtl import MODEL, dataset_paths

from analysis.mtl.data import build_fold, load_inputs
from analysis.mtl.models import build_model
from analysis.mtl.runtime import torch_settings
from analysis.mtl.seeding import RunSeeds, make_generator
from analysis.mtl.settings import TrainingSettings
from analysis.mtl.swr import PolicyTraining, SWRLayer, SWRNet
from analysis.mtl.transfer import TransferSettings, pretrain, search_policy, swr_transfer

TRAINING = TrainingSettings.from_config(
    {"epochs": 2, "batch_size": 16, "learning_rate": 0.01, "seeds": [0]}
)
CNN = {"type": "cnn", "channels": [4, 8], "dropout": 0.0}


def small_net(config: dict, input_shape: tuple[int, ...]) -> tuple[torch.nn.Module, SWRNet]:
    pretrained = build_model(config, input_shape, {"source": 3}, RunSeeds(0, 0))
    width = (config.get("hidden") or config.get("channels"))[-1]
    net = SWRNet(pretrained, {"target": torch.nn.Linear(width, 2)}, 32, make_generator("p"))
    return pretrained, net


def test_transfer_model_starts_exactly_at_the_pretrained_model() -> None:
    for config, shape in [(MODEL, (8,)), (CNN, (8, 6))]:
        pretrained, net = small_net(config, shape)
        assert all(float(p.detach().abs().max()) == 0.0 for p in net.extractor_changes())
        pretrained.eval()
        net.eval()
        x = torch.randn(5, *shape)
        assert torch.equal(net.net.trunk(x), pretrained.trunk(x))


def test_only_the_weight_changes_and_heads_learn_batch_norm_affine_is_frozen() -> None:
    _, net = small_net(CNN, (8, 6))
    learnable = {name for name, p in net.named_parameters() if p.requires_grad}
    assert learnable and all(".delta." in name or name.startswith("net.heads") for name in learnable)
    assert len(net.layers) == 2 and all(isinstance(layer, SWRLayer) for layer in net.layers)
    assert torch.isclose(net.shares.sum(), torch.tensor(1.0))


def test_policy_realised_cost_tracks_the_target_cost() -> None:
    """Cost loss alone, six layers of unequal size (shares 0.07 to 0.36): the binarised policy's
    realised share of changed parameters rises with c, is exact at 0 and 1 and within 0.15 of c
    on average (measured: mean 0.06-0.13, worst single cost 0.30 over four seeds)."""
    _, net = small_net({"type": "dnn", "hidden": [16, 16, 32, 8, 64, 16], "dropout": 0.0}, (12,))
    net.freeze_all()
    net.policy.requires_grad_(True)
    net.policy_training = PolicyTraining(1.0, 1.0, make_generator("costs"))
    optimizer = torch.optim.Adam(net.policy.parameters(), lr=0.01)
    x = torch.randn(8, 12)
    net.train()
    with torch_settings(1):  # tiny tensors: more threads only contend
        for _ in range(600):
            net(x)
            loss = net.penalty()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    costs = [0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0]
    realised = [net.realised_cost(net.policy.binary_policy(c)) for c in costs]
    errors = [abs(r - c) for r, c in zip(realised, costs)]
    assert sum(errors) / len(errors) <= 0.15, dict(zip(costs, realised))
    assert max(errors) <= 0.35 and realised[0] == 0.0 and realised[-1] == 1.0
    assert realised == sorted(realised)


@pytest.fixture(scope="module")
def alpha_fold(study: Path):
    paths = dataset_paths(study, "alpha")
    tasks = {"alpha_word": {"dataset": "alpha", "label": "word"},
             "alpha_speaker": {"dataset": "alpha", "label": "speaker"}}
    datasets, task_list = load_inputs(
        tasks, {"alpha": str(paths["manifest"])}, {"alpha": str(paths["features"])},
        {"alpha": str(paths["splits"])}, None, TRAINING,
    )
    return build_fold(datasets, task_list, 0, TRAINING), {t.name: t for t in task_list}


def _as_single(fold, tasks: dict, name: str):
    """The fold seen by a single-task model of `name` (its label column only)."""
    import dataclasses

    column = fold.task_order.index(name)
    return dataclasses.replace(
        fold, task_order=(name,), train_y=fold.train_y[:, column : column + 1],
        test={name: fold.test[name]},
    ), tasks[name]


def test_cost_zero_leaves_the_extractor_as_pretrained(alpha_fold) -> None:
    fold, tasks = alpha_fold
    source_fold, source = _as_single(fold, tasks, "alpha_word")
    target_fold, target = _as_single(fold, tasks, "alpha_speaker")
    pretrained = pretrain(source, source_fold, MODEL, TRAINING, seed=0)
    settings = TransferSettings.from_config({"costs": [0.0, 1.0], "search_epochs": 1, "policy_steps": 20})
    seeds = RunSeeds(0, 0)
    searched = search_policy(pretrained, target, target_fold, MODEL, TRAINING, settings, seeds)
    closed, result = swr_transfer(pretrained, searched, target, target_fold, MODEL, TRAINING,
                                  seeds, 0.0)
    assert result.realised_cost == 0.0
    merged = closed.merged_trunk().state_dict()
    assert all(torch.equal(merged[k], v) for k, v in pretrained.trunk.state_dict().items())
    opened, result = swr_transfer(pretrained, searched, target, target_fold, MODEL, TRAINING,
                                  seeds, 1.0)
    assert result.realised_cost > 0.0  # a barely trained policy (one search epoch) opens some
    assert any(float(p.detach().abs().max()) > 0 for p in opened.extractor_changes())
    scores = dict((metric, value) for _, metric, value in result.final)
    assert scores["updates"] > 0 and 0.0 <= scores["macro_f1"] <= 1.0
