"""int8 encoders: PyTorch dynamic quantization of every Linear layer.

Decisions:
    * Dynamic quantization (int8 weights, activations quantized per batch at
      run time) needs no calibration data and no new dependency, and measured
      about 2x the texts per second of float32 on 2 CPU cores for
      all-MiniLM-L6-v2 (benchmarks/RESULTS.md). ONNX Runtime's would need an
      ONNX export of each model first.
    * Per output channel weight scales, not one per tensor: on all-MiniLM-L6-v2
      one scale per tensor left a mean cosine to float32 of 0.914, per channel
      0.969 at nearly the same speed (300 user texts, 2 cores). Keeping the
      feed-forward output layers in float32 reached 0.984 but lost most of the
      speed-up, so every Linear layer is quantized.
    * PyTorch marks ``torch.ao.quantization`` as deprecated (its successor,
      torchao, targets GPUs first); the API still works in the pinned torch and
      its warning is silenced here, where it is the one intended use.
"""

from __future__ import annotations

import warnings


def quantize_int8(encoder):
    """A copy of ``encoder`` (in eval mode) whose ``torch.nn.Linear`` layers run in int8."""
    import torch

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*torch\.ao\.quantization.*deprecated", category=DeprecationWarning)
        warnings.filterwarnings("ignore", message=r".*quantiz.*deprecated", category=UserWarning)
        warnings.filterwarnings("ignore", message=r".*deprecated.*", module=r"torch\.ao\..*")
        from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

        return quantize_dynamic(encoder, {torch.nn.Linear: per_channel_dynamic_qconfig}, dtype=torch.qint8).eval()
