"""Tiny untrained checkpoints at any k for the AppTests of large path spaces (k = 5, 6): a table of
the single-path masks and the full mask, evaluated with shared weights, with analytic MFLOPs."""

from __future__ import annotations

from pathlib import Path


def write_tiny_checkpoint(path: Path, modalities: tuple[str, ...], n_valid: int = 16) -> None:
    import torch

    from mro_core.config import ModelConfig, SyntheticConfig, TrainConfig, to_dict
    from mro_core.data.synthetic import feature_dim, make_synthetic
    from mro_core.model.flops import analytic_flops
    from mro_core.model.supernet import Supernet
    from mro_core.training.checkpoint import Checkpoint, save_checkpoint
    from mro_core.training.train import evaluate_masks

    syn = SyntheticConfig(modalities=modalities, planted=(f"{modalities[0]}->{modalities[1]}",), num_keys=2,
                          seq_len=4, min_len=2, n_train=16, n_valid=n_valid, n_test=8, seed=0)
    ds = make_synthetic(syn)
    cfg = ModelConfig(modalities=modalities, input_dims=(feature_dim(syn),) * len(modalities), d_model=8,
                      num_heads=2, ff_mult=2, dropout=0.0)
    torch.manual_seed(0)
    model = Supernet(cfg)
    masks = list(model.space.iter_single_path_masks()) + [model.space.full_mask()]
    rows = evaluate_masks(model, ds.splits["valid"], masks)
    for r, m in zip(rows, masks):
        r["mflops"] = analytic_flops(cfg, m, ds.seq_lens) / 1e6
        r["paths"] = sum(m)
    ck = Checkpoint(cfg, TrainConfig(batch_size=8, epochs=1, device="cpu"),
                    {k: v.detach().clone() for k, v in model.state_dict().items()},
                    data={"name": "synthetic", "synthetic": to_dict(syn)}, epoch=1, mask_table=rows)
    save_checkpoint(ck, path)
