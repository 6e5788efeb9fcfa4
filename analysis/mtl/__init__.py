"""Multi-task models of the study: task types, hard-parameter-sharing networks, batching,
training with checkpoints and resume, and evaluation.

The Snakemake rule calls `analysis.mtl.train.train_study_model`. Modules: `tasks` (label encoding,
loss, prediction per task type), `models` (model factory keyed by `model["type"]`), `data` (inputs
and per-fold tensors), `batching`, `losses` (combining task losses), `metrics`, `checkpoints`,
`seeding` (per-run generators).
"""
