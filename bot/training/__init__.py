"""Build-time training: the commands that rebuild the shipped model files.

These need the ``train`` extra (``pip install -e '.[train]'``; the embedding distillation also
needs ``pip install torch==2.13.0``). Nothing here runs when the bot serves or answers.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import tempfile
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path

# The packages whose versions decide a text model's bytes (the fit, its linear algebra, the
# tokenizer that hashes its features), recorded in its meta.json as ``packages``: a retrain
# reproduces a model bit for bit only with the versions it was built with.
TEXT_MODEL_PACKAGES = ("numpy", "scipy", "scikit-learn", "tokenizers")
META = "meta.json"


def digest(directory: Path, files: Sequence[str]) -> dict[str, str]:
    """SHA-256 of each of ``files`` present in ``directory``."""
    return {
        name: hashlib.sha256((directory / name).read_bytes()).hexdigest()
        for name in files
        if (directory / name).exists()
    }


def package_versions(names: Sequence[str]) -> dict[str, str]:
    """The installed version of each of ``names`` (those not installed are left out)."""
    found = {}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def _meta(directory: Path) -> dict[str, object]:
    path = directory / META
    if not path.exists():
        return {}
    loaded = json.loads(path.read_text(encoding="utf-8"))
    return loaded if isinstance(loaded, dict) else {}


def _without_versions(meta: dict[str, object]) -> dict[str, object]:
    return {key: value for key, value in meta.items() if key != "packages"}


NOT_RECORDED = "the shipped model does not record the package versions it was built with"


def version_changes(shipped: dict[str, object], fresh: dict[str, object]) -> list[str]:
    """How the package versions recorded in two meta.json files differ, one line a package
    (``name: shipped -> here``); a shipped model that records none gets ``[NOT_RECORDED]``."""
    before, after = shipped.get("packages"), fresh.get("packages")
    if not isinstance(before, dict):
        return [NOT_RECORDED]
    if not isinstance(after, dict):
        return []
    names = sorted(set(before) | set(after))
    return [
        f"{name}: {before.get(name, 'not installed')} -> {after.get(name, 'not installed')}"
        for name in names
        if before.get(name) != after.get(name)
    ]


def rebuilt_identically(build: Callable[[Path], None], shipped: Path, files: Sequence[str]) -> bool:
    """Build into a scratch folder and compare with the shipped files; print the verdict, and
    when they differ, any change in the package versions the two were built with (the usual
    cause, when the code and data are the same). meta.json is compared without its record of
    those versions, so a model rebuilt identically with other versions counts as identical."""
    with tempfile.TemporaryDirectory() as scratch:
        build(Path(scratch))
        fresh, current = digest(Path(scratch), files), digest(shipped, files)
        fresh_meta, shipped_meta = _meta(Path(scratch)), _meta(shipped)
    differ = sorted(name for name in files if name != META and fresh.get(name) != current.get(name))
    if META in files and _without_versions(fresh_meta) != _without_versions(shipped_meta):
        differ = sorted([*differ, META])
    changes = version_changes(shipped_meta, fresh_meta)
    if not differ:
        note = (
            NOT_RECORDED
            if changes == [NOT_RECORDED]
            else f"other package versions: {'; '.join(changes)}"
        )
        print("identical" + (f" ({note})" if changes else ""))
        return True
    print(f"differs: {', '.join(differ)}")
    if changes:
        print("built with other package versions, which alone can change the bytes:")
        print("\n".join(f"  {line}" for line in changes))
    return False


def add_common_options(parser: argparse.ArgumentParser, output: Path | None = None) -> None:
    """The options every training command shares: ``--cv``, and for a command that writes
    model files, ``--output`` (default ``output``) and ``--check``."""
    if output is not None:
        parser.add_argument("--output", type=Path, default=output)
    parser.add_argument("--cv", action="store_true", help="grouped cross-validation only")
    if output is not None:
        parser.add_argument("--check", action="store_true", help="retrain aside and compare")
