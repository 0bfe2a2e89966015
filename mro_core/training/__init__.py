"""Training: the one skeleton every training runs on (``loop``), supernet training and shared-weight
evaluation (``train``), stand-alone baseline training (``baselines``), checkpoints (``checkpoint``)
and the torchrun context (``distributed``). Import the modules themselves; this package re-exports
nothing, so importing one never pulls in the others."""
