"""Frame-wise outputs for detection tasks, and the `frame_dnn` model that shares layers per frame.

`FrameOutputs` is a head width (an int, so every other model and the efficiency figures see the
flat size `n_frames * per_frame`) that says the task wants `per_frame` outputs at every frame.

`frame_dnn` (model.type) is the fully connected network of `dnn` applied to every frame of a
frame-based input (log-mel patches or MFCC; each frame stacked with `CONTEXT_FRAMES` neighbours on
either side, edges repeated): shared layers (batch, frames, hidden[-1]). A detection task's head is
one linear layer applied at every frame -> (batch, frames * per_frame), frame-major; a
classification task's head is a linear layer on the mean over frames. With `dnn` (flattened
input) a detection head is one linear layer to all `n_frames * per_frame` outputs.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from analysis.mtl.layers import (
    InputShape,
    MultiTaskNet,
    dnn_trunk,
    frames_and_bands,
    linear_head,
)

CONTEXT_FRAMES = 2


class FrameOutputs(int):
    """A head width of `n_frames * per_frame` outputs, read as (frames, per_frame)."""

    n_frames: int
    per_frame: int

    def __new__(cls, n_frames: int, per_frame: int) -> FrameOutputs:
        value = super().__new__(cls, n_frames * per_frame)
        value.n_frames, value.per_frame = n_frames, per_frame
        return value

    def __reduce__(self) -> tuple:  # pickled (in checkpoints) with both numbers
        return (FrameOutputs, (self.n_frames, self.per_frame))


def stack_context(x: torch.Tensor, context: int) -> torch.Tensor:
    """(batch, frames, bands) -> (batch, frames, bands * (2 context + 1)), edges repeated."""
    if context == 0:
        return x
    padded = torch.cat([x[:, :1].expand(-1, context, -1), x,
                        x[:, -1:].expand(-1, context, -1)], dim=1)
    windows = padded.unfold(1, 2 * context + 1, 1)  # (batch, frames, bands, 2 context + 1)
    return windows.flatten(2)


class FrameSharedNet(MultiTaskNet):
    """Shared per-frame layers; frame heads per frame, clip heads on the mean over frames."""

    def __init__(self, trunk: nn.Module, frame_heads: Mapping[str, nn.Module],
                 clip_heads: Mapping[str, nn.Module]) -> None:
        super().__init__()
        self.trunk = trunk
        self.frame_heads = nn.ModuleDict({t: frame_heads[t] for t in sorted(frame_heads)})
        self.clip_heads = nn.ModuleDict({t: clip_heads[t] for t in sorted(clip_heads)})

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        shared = self.trunk(stack_context(x, CONTEXT_FRAMES))  # (batch, frames, width)
        outputs = {task: head(shared).flatten(1) for task, head in self.frame_heads.items()}
        pooled = shared.mean(dim=1)  # (batch, width)
        outputs.update({task: head(pooled) for task, head in self.clip_heads.items()})
        return outputs


def build_frame_dnn(settings, input_shape: InputShape, head_sizes: Mapping[str, int],
                    seeds) -> MultiTaskNet:
    """The `frame_dnn` model type (module docstring)."""
    _, bands = frames_and_bands(input_shape, "frame_dnn")
    hidden = list(settings.hidden)
    trunk = dnn_trunk(bands * (2 * CONTEXT_FRAMES + 1), hidden, settings.dropout, seeds.trunk())
    frame_heads, clip_heads = {}, {}
    for task, size in head_sizes.items():
        if isinstance(size, FrameOutputs):
            frame_heads[task] = linear_head(hidden[-1], size.per_frame, seeds.head(task))
        else:
            clip_heads[task] = linear_head(hidden[-1], size, seeds.head(task))
    return FrameSharedNet(trunk, frame_heads, clip_heads)
