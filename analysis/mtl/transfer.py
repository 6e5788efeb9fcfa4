"""Transfer of a model pre-trained on a source task to a target task (SWR and two references).

For one (fold, seed) run, `transfer_run` pre-trains on the source task's training part exactly as
its single-task model trains (same seeds, sampler and budget), then transfers to the target task:

1. SWR super-net: every b_l = 1, w' and a new target head trained `search_epochs`.
2. SWR policy: super-net frozen, the policy network trained with c ~ U(0, 1) per step and the loss
   L_target + lambda * |realised soft cost - c| (`analysis.mtl.swr`), for `search_epochs` and at
   least `policy_steps` steps (a small dataset's epochs have few steps; the policy needs hundreds).
3. For every cost c: the policy frozen and binarised at c; a fresh transfer model (w' = 0, the
   target's single-task head initialisation) learns only the w'_l with b_l = 1, and its head, with
   the target single-task model's budget: its sampler, epochs, updates and rows per update. Its
   test score minus the target's single-task score is the transfer gain.

References, on the same budget: `finetune` (every parameter of the pre-trained network learns) and
`head_only` (every b_l = 0: only the new head learns; batch-norm statistics adapt as under SWR).
"""

from __future__ import annotations

import copy
import dataclasses
import math
from collections.abc import Iterable

import torch

from analysis.mtl.data import FoldData
from analysis.mtl.layers import SharedTrunkNet
from analysis.mtl.models import build_model
from analysis.mtl.runtime import log_startup
from analysis.mtl.seeding import RunSeeds, make_generator
from analysis.mtl.settings import TrainingSettings
from analysis.mtl.swr import PolicyTraining, SWRNet
from analysis.mtl.tasks import Task
from analysis.mtl.train import OPTIMIZERS, RunState, _finish, new_run_state, train_epoch

SWR, FINETUNE, HEAD_ONLY = "swr", "finetune", "head_only"


@dataclasses.dataclass(frozen=True)
class TransferSettings:
    """The config's `transfer` section (completed by the schema)."""

    costs: tuple[float, ...]
    references: bool
    search_epochs: int | None
    policy_hidden: int
    tau: float
    cost_lambda: float
    policy_steps: int
    policy_learning_rate: float

    @classmethod
    def from_config(cls, values: dict) -> TransferSettings:
        from analysis.config import section

        values = section("transfer", values)
        return cls(
            costs=tuple(float(c) for c in values["costs"]), references=values["references"],
            search_epochs=values["search_epochs"], policy_hidden=values["policy_hidden"],
            tau=float(values["tau"]), cost_lambda=float(values["cost_lambda"]),
            policy_steps=values["policy_steps"],
            policy_learning_rate=float(values["policy_learning_rate"]),
        )


@dataclasses.dataclass(frozen=True)
class TransferResult:
    """One transferred model's scores: method, cost (NaN for a reference), realised cost."""

    method: str
    cost: float
    realised_cost: float
    final: list[tuple[str, str, float]]  # (task, metric, value), as RunRecords.final


def _train(state: RunState, tasks: list[Task], fold: FoldData, epochs: int) -> RunState:
    log_startup()  # once per process, as a training job does
    for _ in range(epochs):
        train_epoch(state, tasks, fold)
        state.epoch += 1
        state.counts.end_epoch(state.epoch)
    return state


def _state(
    tasks: list[Task], fold: FoldData, model_config: dict, config: TrainingSettings,
    seeds: RunSeeds, model: torch.nn.Module | None = None,
    parameters: Iterable[torch.nn.Parameter] | None = None,
) -> RunState:
    """A run state with the single-task model's sampler, loss and dropout generator; `model` and
    the `parameters` that learn replace the fresh model when given."""
    state = new_run_state(tasks, fold, model_config, config, seeds, torch.arange(fold.n_rows))
    if model is None:
        return state
    model = model.to(next(state.model.parameters()).device)
    model.set_dropout_generator(state.dropout)
    optimizer = OPTIMIZERS[config.optimizer](list(parameters or model.parameters()), config)
    return dataclasses.replace(state, model=model, optimizer=optimizer)


def pretrain(
    source: Task, fold: FoldData, model_config: dict, config: TrainingSettings, seed: int
) -> SharedTrunkNet:
    """The source task's single-task model of (fold, seed), trained as `train_run` trains it
    (without early stopping: every epoch)."""
    seeds = RunSeeds(seed=seed, fold=fold.fold)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seeds.global_seed())
        state = _state([source], fold, model_config, config, seeds)
        return _train(state, [source], fold, config.epochs).model


def target_head(target: Task, fold: FoldData, model_config: dict, seeds: RunSeeds) -> torch.nn.Module:
    """A new head initialised as the target's single-task model's head."""
    fresh = build_model(model_config, fold.input_shape, {target.name: target.n_outputs}, seeds)
    return fresh.heads[target.name]


def search_policy(
    pretrained: SharedTrunkNet, target: Task, fold: FoldData, model_config: dict,
    config: TrainingSettings, settings: TransferSettings, seeds: RunSeeds,
) -> SWRNet:
    """Stages 1 and 2: the super-net, then the policy network with the super-net frozen."""
    epochs = settings.search_epochs or config.epochs
    net = SWRNet(pretrained, {target.name: target_head(target, fold, model_config, seeds)},
                 settings.policy_hidden, make_generator("policy", seeds.seed, seeds.fold))
    net.set_gates(torch.ones(len(net.layers)))
    learn = [*net.extractor_changes(), *net.heads()]
    _train(_state([target], fold, model_config, config, seeds, net, learn), [target], fold, epochs)
    net.freeze_all()
    net.policy.requires_grad_(True)
    net.policy_training = PolicyTraining(
        settings.tau, settings.cost_lambda, make_generator("policy costs", seeds.seed, seeds.fold)
    )
    policy_config = dataclasses.replace(config, learning_rate=settings.policy_learning_rate)
    state = _state([target], fold, model_config, policy_config, seeds, net,
                   list(net.policy.parameters()))
    _train(state, [target], fold, epochs)
    while state.step < settings.policy_steps:  # a small dataset: more passes, as many as needed
        _train(state, [target], fold, 1)
    net.policy_training = None
    net.policy.requires_grad_(False)
    return net


def _transfer_net(
    pretrained: SharedTrunkNet, searched: SWRNet, target: Task, fold: FoldData,
    model_config: dict, seeds: RunSeeds, gates: torch.Tensor,
) -> SWRNet:
    net = SWRNet(pretrained, {target.name: target_head(target, fold, model_config, seeds)},
                 searched.policy.net[0].out_features)
    net.policy.load_state_dict(searched.policy.state_dict())
    net.set_gates(gates)
    return net


def _final(
    net: torch.nn.Module, learn: list[torch.nn.Parameter], target: Task, fold: FoldData,
    model_config: dict, config: TrainingSettings, seeds: RunSeeds,
) -> list[tuple[str, str, float]]:
    """Train with the target's single-task budget; its scored records (as `RunRecords.final`)."""
    state = _state([target], fold, model_config, config, seeds, net, learn)
    state = _train(state, [target], fold, config.epochs)
    return _finish(state, [target], fold).final


def swr_transfer(
    pretrained: SharedTrunkNet, searched: SWRNet, target: Task, fold: FoldData,
    model_config: dict, config: TrainingSettings, seeds: RunSeeds, cost: float,
) -> tuple[SWRNet, TransferResult]:
    """Stage 3 at `cost`: the trained transfer net and its result. c = 0 allows no change: every
    b_l = 0 whatever the policy says."""
    gates = searched.policy.binary_policy(cost) if cost > 0 else torch.zeros(len(searched.layers))
    net = _transfer_net(pretrained, searched, target, fold, model_config, seeds, gates)
    learn = [p for layer, gate in zip(net.layers, gates) if gate > 0
             for p in layer.delta.values()] + list(net.heads())
    final = _final(net, learn, target, fold, model_config, config, seeds)
    return net, TransferResult(SWR, cost, net.realised_cost(), final)


def transfer_models(
    pretrained: SharedTrunkNet, target: Task, fold: FoldData, model_config: dict,
    config: TrainingSettings, settings: TransferSettings, seed: int,
) -> list[TransferResult]:
    """SWR at every cost, then the references, each from the same pre-trained network."""
    seeds = RunSeeds(seed=seed, fold=fold.fold)
    results = []
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seeds.global_seed())
        searched = search_policy(pretrained, target, fold, model_config, config, settings, seeds)
        for cost in settings.costs:
            results.append(swr_transfer(pretrained, searched, target, fold, model_config, config,
                                        seeds, cost)[1])
        if settings.references:
            results += _references(pretrained, searched, target, fold, model_config, config, seeds)
    return results


def _references(
    pretrained: SharedTrunkNet, searched: SWRNet, target: Task, fold: FoldData,
    model_config: dict, config: TrainingSettings, seeds: RunSeeds,
) -> list[TransferResult]:
    head = target_head(target, fold, model_config, seeds)
    finetuned = SharedTrunkNet(copy.deepcopy(pretrained.trunk), {target.name: head},
                               pretrained.flatten)
    finetuned.requires_grad_(True)
    full = _final(finetuned, list(finetuned.parameters()), target, fold, model_config, config, seeds)
    closed = torch.zeros(len(searched.layers))
    net = _transfer_net(pretrained, searched, target, fold, model_config, seeds, closed)
    head_only = _final(net, list(net.heads()), target, fold, model_config, config, seeds)
    return [TransferResult(FINETUNE, math.nan, 1.0, full),
            TransferResult(HEAD_ONLY, math.nan, 0.0, head_only)]
