"""Writes foundry_ops.pt: the PyTorch functions peft-engine needs that DJL 0.36's PyTorch JNI does not bind.

DJL 0.36 maps dtypes in its JNI with a switch that aborts the process on any dtype it does not know, bfloat16
included, so it can neither create a bf16 tensor nor cast to one; nor does it bind scaled_dot_product_attention.
A bf16 tensor that exists is fine in DJL (ops without a dtype argument run natively), so these few functions run
from a TorchScript module that the engine loads once (io.peftfoundry.engine.model.TorchOps).

Every method takes tensors only (scalars as 0-d tensors), so the engine can call it with autograd on (DJL's
IValueUtils.forward with isTrain=true). Regenerate with torch 2.7.1 (the libtorch of DJL 0.36):
    /work/venv-hf/bin/python peft-engine/src/main/torchscript/foundry_ops.py [OUT]
(default OUT: peft-engine/src/main/resources/io/peftfoundry/engine/model/foundry_ops.pt); interop/run checks that the
committed file equals what this writes.
"""
import io
import os
import sys
import zipfile
from typing import List, Optional

import torch
import torch.nn.functional as F


class FoundryOps(torch.nn.Module):

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x

    @torch.jit.export
    def to_bf16(self, x: torch.Tensor) -> torch.Tensor:
        """x as bfloat16 (round to nearest even), differentiable."""
        return x.to(torch.bfloat16)

    @torch.jit.export
    def to_f32(self, x: torch.Tensor) -> torch.Tensor:
        """x as float32, differentiable."""
        return x.to(torch.float32)

    @torch.jit.export
    def linear_bf16(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        """x W^T computed in bfloat16 (w bf16 (out, in)), the result back in x's type: (..., in) -> (..., out)."""
        return F.linear(x.to(torch.bfloat16), w).to(x.dtype)

    @torch.jit.export
    def swiglu_bf16(self, x: torch.Tensor, gate: torch.Tensor, up: torch.Tensor, down: torch.Tensor) -> torch.Tensor:
        """down(silu(gate(x)) * up(x)) with bf16 weights (out, in), computed in bfloat16 as transformers does on a
        bf16 model, the result in x's type: (..., hidden) -> (..., hidden)."""
        xb = x.to(torch.bfloat16)
        return F.linear(F.silu(F.linear(xb, gate)) * F.linear(xb, up), down).to(x.dtype)

    @torch.jit.export
    def gelu_tanh(self, x: torch.Tensor) -> torch.Tensor:
        """The tanh approximation of GELU, 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), as one operator each way
        (transformers' gelu_new composes it from eight)."""
        return F.gelu(x, approximate="tanh")

    @torch.jit.export
    def silu_mul(self, gate: torch.Tensor, up: torch.Tensor) -> torch.Tensor:
        """silu(gate) * up, SwiGLU's product, with silu as one operator each way (as transformers' ACT2FN["silu"])."""
        return F.silu(gate) * up

    @torch.jit.export
    def rms_norm(self, x: torch.Tensor, w: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        """transformers' LlamaRMSNorm: w * (x32 * rsqrt(mean(x32^2, -1) + eps)) with x32 = x as float32 (float64 kept),
        the normalised value cast back to x's type before the product with w."""
        h = x if x.dtype == torch.float64 else x.to(torch.float32)
        variance = h.pow(2).mean(-1, keepdim=True)
        h = h * torch.rsqrt(variance + eps)
        return w * h.to(x.dtype)

    @torch.jit.export
    def nll_sum(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Summed cross-entropy of logits (..., V) against int64 labels (...), -100 where there is no target: the
        loss transformers' causal LMs compute (log_softmax + nll_loss, with reduction "sum")."""
        return F.cross_entropy(logits.reshape(-1, logits.size(-1)), labels.reshape(-1), ignore_index=-100,
                               reduction="sum")

    @torch.jit.export
    def embedding_f32(self, ids: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        """Rows of a (bf16 or fp16) table as float32: int64 ids (...) -> (..., dim)."""
        return F.embedding(ids, w).to(torch.float32)

    @torch.jit.export
    def sdpa_causal(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
        """Causal attention, q (B, H, T, D), k/v (B, Hkv, T, D) with H a multiple of Hkv (grouped)."""
        return F.scaled_dot_product_attention(q, k, v, is_causal=True, scale=scale.item(), enable_gqa=True)

    @torch.jit.export
    def sdpa_masked(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor,
                    scale: torch.Tensor) -> torch.Tensor:
        """Attention with an additive float mask broadcastable to (B, H, T, S); k/v grouped as in sdpa_causal."""
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, scale=scale.item(), enable_gqa=True)

    @torch.jit.export
    def map_bf16(self, path: torch.Tensor, numel: torch.Tensor) -> torch.Tensor:
        """The file at path (its Unicode code points, int64) as numel bfloat16 values, memory-mapped privately
        (pages read when first touched, nothing copied)."""
        codes: List[int] = path.tolist()
        name = ""
        for c in codes:
            name += chr(c)
        return torch.from_file(name, False, int(numel.item()), dtype=torch.bfloat16)

    @torch.jit.export
    def view_of(self, flat: torch.Tensor, offset: torch.Tensor, shape: torch.Tensor) -> torch.Tensor:
        """The elements of 1-D flat from offset, viewed as shape (int64 (rank,)): no copy."""
        dims: List[int] = shape.tolist()
        n = 1
        for d in dims:
            n *= d
        return flat.narrow(0, int(offset.item()), n).view(dims)

    @torch.jit.export
    def to_device_of(self, x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        """x on like's device (a copy when it is elsewhere), its dtype kept."""
        return x.to(like.device)


def write(out: str) -> None:
    module = torch.jit.script(FoundryOps())
    buf = io.BytesIO()
    torch.jit.save(module, buf)
    # zip entries carry a date, the archive a random id, and the debug records name this script's absolute path: rewrite with a fixed date and
    # without them, so that the same torch version writes the same bytes wherever it runs (interop/run compares them)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out_buf = io.BytesIO()
    with zipfile.ZipFile(out_buf, "w", zipfile.ZIP_STORED) as dst:
        for info in src.infolist():
            if info.filename.endswith(".debug_pkl"):
                continue  # source positions, which name the absolute path of this script
            fixed = zipfile.ZipInfo(info.filename, date_time=(2026, 1, 1, 0, 0, 0))
            fixed.external_attr = info.external_attr
            data = src.read(info.filename)
            if info.filename.endswith("/.data/serialization_id"):
                data = b"0" * len(data)  # a per-save random id; nothing in loading depends on it
            dst.writestr(fixed, data)
    with open(out, "wb") as f:
        f.write(out_buf.getvalue())


if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    default = os.path.join(here, "..", "resources", "io", "peftfoundry", "engine", "model", "foundry_ops.pt")
    write(os.path.normpath(sys.argv[1] if len(sys.argv) > 1 else default))
