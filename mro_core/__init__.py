"""MRO: Multimodal Routing Optimization.

A weight-sharing supernet over the k(k-1) directed cross-modal attention paths of a pairwise
Cross-Modal Transformer, a prior-guided search over its binary path masks, and the tooling
around it (data, metrics, FLOPs, run store, command line).
"""

__version__ = "0.1.0"
