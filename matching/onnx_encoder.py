"""A faster CPU encoder: the same model exported to ONNX and quantised to int8 weights.

The reference encoder (:class:`matching.embedder.SentenceTransformerEncoder`) runs the
transformer in PyTorch with float32 weights. Here the transformer is exported once with
``torch.onnx.export``, its weights quantised with ONNX Runtime's dynamic int8 quantisation,
and cached on disk under a name derived from the model id; texts are then run through ONNX
Runtime with the same tokenizer, the same token windows and the same mean pooling. The vectors
are close to the reference (mean cosine is measured by ``werkmatch bench``) but not equal, so
this encoder has its own model id and switching to it re-embeds the stored texts.

Only mean-pooling models (like all-MiniLM-L6-v2) are supported.
"""

from __future__ import annotations

import json
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from matching.encoding import resolve_model_dir
from matching.st_encoder import SentenceTransformerEncoder

BACKEND = "onnx-int8"


class OnnxInt8Encoder(SentenceTransformerEncoder):
    """Token-window chunking as the reference; the forward pass in ONNX Runtime, int8."""

    def __init__(
        self, model: str, *, batch_size: int = 32, overlap_tokens: int = 32, cache_dir: Path
    ) -> None:
        super().__init__(model, batch_size=batch_size, overlap_tokens=overlap_tokens)
        _require_mean_pooling(resolve_model_dir(model))
        self.reference_model_id = self.model_id
        self.model_id = f"{self.model_id}+{BACKEND}"
        path = Path(cache_dir) / f"{self.model_id.replace('@', '-').replace('+', '-')}.onnx"
        if not path.is_file():
            _export_int8(self._model, path)
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = os.cpu_count() or 1
        self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.onnx_path = path

    def encode_pieces(self, pieces: list[str]) -> np.ndarray:
        order = np.argsort([-len(p) for p in pieces], kind="stable")  # similar lengths batch
        out = np.zeros((len(pieces), self.dim), dtype=np.float32)
        for start in range(0, len(pieces), self.batch_size):
            idx = order[start : start + self.batch_size]
            enc = self._model.tokenizer(
                [pieces[i] for i in idx],
                padding=True,
                truncation=True,
                max_length=self.window + 2,
                return_tensors="np",
            )
            feeds = {
                "input_ids": enc["input_ids"].astype(np.int64),
                "attention_mask": enc["attention_mask"].astype(np.int64),
                "token_type_ids": enc.get("token_type_ids", np.zeros_like(enc["input_ids"])).astype(
                    np.int64
                ),
            }
            hidden = self._session.run(["last_hidden_state"], feeds)[0]
            mask = feeds["attention_mask"][:, :, None].astype(np.float32)
            mean = (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
            out[idx] = mean / np.maximum(np.linalg.norm(mean, axis=1, keepdims=True), 1e-12)
        return out


def _require_mean_pooling(model_dir: Path) -> None:
    config = model_dir / "1_Pooling" / "config.json"
    if config.is_file() and not json.loads(config.read_text()).get("pooling_mode_mean_tokens"):
        raise ValueError(f"{model_dir}: the onnx-int8 encoder supports mean-pooling models only")


def _export_int8(st_model: Any, target: Path) -> None:
    """Export the transformer to ONNX, quantise it to int8 and move it into place atomically."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    class LastHiddenState(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.inner(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    names = ["input_ids", "attention_mask", "token_type_ids"]
    example = st_model.tokenizer(["een voorbeeldzin", "nog een"], padding=True, return_tensors="pt")
    args = tuple(example.get(n, torch.zeros_like(example["input_ids"])) for n in names)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        fp32, int8 = Path(tmp) / "model.onnx", Path(tmp) / "model.int8.onnx"
        with warnings.catch_warnings():
            # The TorchScript exporter on purpose (dynamo=False): the torch.export one needs
            # onnxscript, which is not installed. Its notices name no defect of this model:
            # its own deprecation (several), the tracer's notes on Python values it freezes
            # (shapes stay dynamic through dynamic_axes), and opset 17's rewriting of
            # advanced indexing (the model indexes with non-negative ids only).
            warnings.filterwarnings("ignore", category=DeprecationWarning)
            warnings.filterwarnings("ignore", category=torch.jit._trace.TracerWarning)
            warnings.filterwarnings("ignore", "Exporting aten::index operator", UserWarning)
            torch.onnx.export(
                LastHiddenState(st_model[0].auto_model).eval(),
                args,
                str(fp32),
                input_names=names,
                output_names=["last_hidden_state"],
                dynamic_axes={n: {0: "batch", 1: "tokens"} for n in [*names, "last_hidden_state"]},
                opset_version=17,
                dynamo=False,
            )
        # per-channel scales keep the mean cosine to the float model near 0.99 (per-tensor: 0.89)
        quantize_dynamic(
            str(fp32),
            str(int8),
            weight_type=QuantType.QInt8,
            per_channel=True,
            op_types_to_quantize=["MatMul"],
        )
        os.replace(int8, target)
