"""The stages of `make demo`, in story order. Each module has `title(ctx)`, `run(ctx) -> result` and
`report(console, result)`; each result has `summary_rows()` for the closing table. A new part of the
story is a new module here, added to `STAGES`, not more lines in one function."""

from __future__ import annotations

from mlops_demo.stages import (
    archive,
    canary,
    deploy,
    labels,
    monitor,
    promote,
    reconcile,
    serve,
    simulate,
    training,
)

# Run inside the local AWS, after synthesis, in this order.
STAGES = (deploy, simulate, archive, labels, training, serve, canary, monitor, promote, reconcile)
