"""Build-time training: the commands that rebuild the shipped model files.

These need the ``train`` extra (``pip install -e '.[train]'``; the embedding distillation also
needs ``pip install torch==2.13.0``). Nothing here runs when the bot serves or answers.
"""

from __future__ import annotations

import argparse
import hashlib
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path


def digest(directory: Path, files: Sequence[str]) -> dict[str, str]:
    """SHA-256 of each of ``files`` present in ``directory``."""
    return {
        name: hashlib.sha256((directory / name).read_bytes()).hexdigest()
        for name in files
        if (directory / name).exists()
    }


def rebuilt_identically(build: Callable[[Path], None], shipped: Path, files: Sequence[str]) -> bool:
    """Build into a scratch folder and compare with the shipped files; print the verdict."""
    with tempfile.TemporaryDirectory() as scratch:
        build(Path(scratch))
        fresh, current = digest(Path(scratch), files), digest(shipped, files)
    differ = sorted(name for name in files if fresh.get(name) != current.get(name))
    print("identical" if not differ else f"differs: {', '.join(differ)}")
    return not differ


def add_common_options(parser: argparse.ArgumentParser, output: Path | None = None) -> None:
    """The options every training command shares: ``--cv``, and for a command that writes
    model files, ``--output`` (default ``output``) and ``--check``."""
    if output is not None:
        parser.add_argument("--output", type=Path, default=output)
    parser.add_argument("--cv", action="store_true", help="grouped cross-validation only")
    if output is not None:
        parser.add_argument("--check", action="store_true", help="retrain aside and compare")
