"""Multi-task models of the study: task types, hard-parameter-sharing networks, batching,
training with checkpoints and resume, and evaluation.

The Snakemake rule calls `analysis.mtl.train.train_study_model`. Modules: `tasks` (multiclass,
multilabel and binary: label encoding, loss, decision rule), `models` (model factory keyed by
`model["type"]`: dnn, cnn), `adapters` (multi-task adapters), `data` and `store` (inputs and the
rows of one fold), `batching` (budget, mixed or alternating; update counts), `stopping` (per-task
early stopping and validation clips), `controls` (shuffled-label control tasks), `losses`
(combining task losses), `metrics`, `checkpoints`, `seeding` (per-run generators).
"""
