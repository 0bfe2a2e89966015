"""Models: the cross-modal layers, the weight-sharing supernet, and the baselines."""
