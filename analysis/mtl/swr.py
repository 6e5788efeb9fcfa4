"""Scalable Weight Reparametrization (SWR): cheap transfer of a pre-trained feature extractor.

Every learnable layer l (linear or convolution) of the pre-trained trunk becomes
`w_l = w0_l + b_l * w'_l`: `w0_l` frozen (a buffer), `w'_l` a parameter initialised to zero, `b_l`
in {0, 1} a per-layer policy. Batch-norm layers keep their affine parameters frozen and update only
their running statistics. A policy network (three linear layers with ReLU) maps a target cost c in
[0, 1], the share of the extractor's parameters allowed to change, to L two-way logits; training
relaxes them with hard Gumbel-softmax, use binarises `softmax(logits)_1` at 0.5.

The cost loss is `lambda * |sum_l r_l softmax(h(c)_l / tau)_1 - c|`, r_l the layer's share of
the extractor's parameters. The stages (super-net, policy, final transfer) are driven by
`analysis.mtl.transfer`; this module holds the layers and the networks.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator

import torch
import torch.nn.functional as F
from torch import nn

from analysis.mtl.layers import MultiTaskNet, SharedTrunkNet, init_linear

REPARAMETRISED = (nn.Linear, nn.Conv2d)


class SWRLayer(nn.Module):
    """A frozen linear or convolution layer plus a gated, zero-initialised weight change."""

    def __init__(self, layer: nn.Linear | nn.Conv2d) -> None:
        super().__init__()
        self.base = copy.deepcopy(layer)
        self.base.requires_grad_(False)
        self.delta = nn.ParameterDict(
            {name: nn.Parameter(torch.zeros_like(p)) for name, p in self.base.named_parameters()}
        )
        self.register_buffer("gate", torch.ones(()))

    @property
    def n_parameters(self) -> int:
        return sum(p.numel() for p in self.base.parameters())

    def effective(self, name: str) -> torch.Tensor:
        """w0 + b * w' of the parameter `name` (`weight` or `bias`)."""
        return getattr(self.base, name) + self.gate * self.delta[name]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        bias = self.effective("bias") if "bias" in self.delta else None
        if isinstance(self.base, nn.Conv2d):
            return self.base._conv_forward(x, self.effective("weight"), bias)
        return F.linear(x, self.effective("weight"), bias)

    def merged(self) -> nn.Module:
        """A plain layer with the effective weights (what a deployed model would hold)."""
        layer = copy.deepcopy(self.base)
        with torch.no_grad():
            for name, param in layer.named_parameters():
                param.copy_(self.effective(name))
        return layer


def reparametrise(module: nn.Module) -> nn.Module:
    """A copy of `module` with every linear/conv layer an `SWRLayer` and batch-norm affine frozen."""
    module = copy.deepcopy(module)
    _swap(module)
    return module


def _swap(module: nn.Module) -> None:
    for name, child in module.named_children():
        if isinstance(child, REPARAMETRISED):
            setattr(module, name, SWRLayer(child))
        else:
            if isinstance(child, nn.modules.batchnorm._BatchNorm):
                child.requires_grad_(False)  # affine frozen; running statistics still update
            _swap(child)


def swr_layers(module: nn.Module) -> list[SWRLayer]:
    return [m for m in module.modules() if isinstance(m, SWRLayer)]


class PolicyNet(nn.Module):
    """Cost c -> (L, 2) logits: three linear layers with ReLU."""

    def __init__(self, n_layers: int, hidden: int, generator: torch.Generator) -> None:
        super().__init__()
        self.n_layers = n_layers
        self.net = nn.Sequential(
            nn.Linear(1, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
            nn.Linear(hidden, 2 * n_layers),
        )
        for layer in self.net:
            if isinstance(layer, nn.Linear):
                init_linear(layer, generator)

    def forward(self, cost: torch.Tensor) -> torch.Tensor:
        return self.net(cost.reshape(1, 1)).reshape(self.n_layers, 2)

    def binary_policy(self, cost: float) -> torch.Tensor:
        """The policy at use: b_l = 1 where softmax(h(c)_l)_1 >= 0.5."""
        device = self.net[0].weight.device
        with torch.no_grad():
            logits = self(torch.tensor(float(cost), device=device))
        return (logits.softmax(-1)[:, 1] >= 0.5).float().cpu()


class SWRNet(MultiTaskNet):
    """A pre-trained trunk under SWR and one new head per target task; {task: logits}."""

    def __init__(
        self, pretrained: SharedTrunkNet, heads: dict[str, nn.Module], policy_hidden: int = 32,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        self.net = SharedTrunkNet(reparametrise(pretrained.trunk), heads, pretrained.flatten)
        self.layers = swr_layers(self.net.trunk)
        sizes = torch.tensor([float(layer.n_parameters) for layer in self.layers])
        self.register_buffer("shares", sizes / sizes.sum())  # r_l
        self.policy = PolicyNet(len(self.layers), policy_hidden, generator or torch.Generator())
        self.policy.requires_grad_(False)
        self.policy_training: PolicyTraining | None = None
        self._cost_gap: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        if self.policy_training is not None and self.training:
            self._sample_policy()
        return self.net(x)

    # the policy ------------------------------------------------------------------------------

    def set_gates(self, gates: torch.Tensor) -> None:
        """Fixed gates b_l (1: the layer's w' learns, 0: the layer stays pre-trained)."""
        for layer, gate in zip(self.layers, gates):
            layer.gate = gate.detach().clone().to(layer.gate.device)

    def realised_cost(self, gates: torch.Tensor | None = None) -> float:
        """Share of the extractor's parameters whose layer has b_l = 1."""
        gates = torch.stack([layer.gate for layer in self.layers]) if gates is None else gates
        return float((self.shares * gates.to(self.shares.device)).sum())

    def _sample_policy(self) -> None:
        training = self.policy_training
        cost = torch.rand((), generator=training.generator).to(self.shares.device)
        logits = self.policy(cost)
        hard = hard_gumbel_softmax(logits, training.tau, training.generator)[:, 1]
        for layer, gate in zip(self.layers, hard):
            layer.gate = gate
        soft = (logits / training.tau).softmax(-1)[:, 1]
        self._cost_gap = (self.shares * soft).sum() - cost

    def penalty(self) -> torch.Tensor | None:
        if self.policy_training is None or self._cost_gap is None:
            return None
        return self.policy_training.cost_lambda * self._cost_gap.abs()

    # which parameters learn ----------------------------------------------------------------

    def extractor_changes(self) -> Iterator[nn.Parameter]:
        return (p for layer in self.layers for p in layer.delta.values())

    def heads(self) -> Iterator[nn.Parameter]:
        return self.net.heads.parameters()

    def freeze_all(self) -> None:
        self.requires_grad_(False)

    def merged_trunk(self) -> nn.Module:
        """The trunk with every SWR layer merged into a plain layer."""
        trunk = copy.deepcopy(self.net.trunk)
        _merge(trunk)
        return trunk


def hard_gumbel_softmax(
    logits: torch.Tensor, tau: float, generator: torch.Generator
) -> torch.Tensor:
    """`F.gumbel_softmax(hard=True)` with its noise drawn from `generator` (torch's draws from
    the global generator): one-hot forward, the relaxed sample's gradient backward."""
    uniform = torch.rand(logits.shape, generator=generator).clamp_(1e-10, 1.0 - 1e-7)
    gumbel = -torch.log(-torch.log(uniform)).to(logits.device)
    soft = ((logits + gumbel) / tau).softmax(-1)
    hard = F.one_hot(soft.argmax(-1), soft.shape[-1]).to(soft.dtype)
    return hard - soft.detach() + soft


def _merge(module: nn.Module) -> None:
    for name, child in module.named_children():
        if isinstance(child, SWRLayer):
            setattr(module, name, child.merged())
        else:
            _merge(child)


class PolicyTraining:
    """Stage-2 settings: c ~ U(0, 1) per step from `generator`, Gumbel temperature, cost weight."""

    def __init__(self, tau: float, cost_lambda: float, generator: torch.Generator) -> None:
        self.tau = tau
        self.cost_lambda = cost_lambda
        self.generator = generator
