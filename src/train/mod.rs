//! Training: the fit loop, losses, metrics, progress and checkpoints.
