"""Finding knowledge edits and validating them before they are served.

The knowledge directory is polled: a fingerprint of every file's path, size, modification time
and inode is compared with the last one seen. Polling needs no new dependency, works the same
on every filesystem (including a Kubernetes ConfigMap volume, whose update swaps a symlink and
so changes the inodes) and costs a few dozen ``stat`` calls per interval.

A change is acted on once it has settled (the same fingerprint twice in a row), so an editor
writing a file in several steps is not caught halfway. The new knowledge is loaded and a
:class:`~bot.core.router.Router` built from it; any :class:`~bot.core.knowledge.KnowledgeError`
rejects the edit with one log line and the previous knowledge keeps serving. A rejected
version is not retried until the files change again.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from bot.core.knowledge import NOT_LOADED, KnowledgeError, load_knowledge
from bot.core.router import Router

log = logging.getLogger(__name__)

# (relative path, size, mtime in ns, inode) for every file, sorted.
Fingerprint = tuple[tuple[str, int, int, int], ...]


def fingerprint(directory: Path) -> Fingerprint:
    """What identifies the current contents of ``directory`` without reading them.

    Names starting with ``..`` are skipped: a ConfigMap volume keeps its timestamped copies
    there, next to the symlinks that name the current one. So is training data
    (:data:`~bot.core.knowledge.NOT_LOADED`), which loading never reads.
    """
    found: list[tuple[str, int, int, int]] = []
    skipped = {os.path.normpath(os.path.join(directory, folder)) for folder in NOT_LOADED}
    for root, dirs, files in os.walk(directory, followlinks=True):
        dirs[:] = sorted(
            d
            for d in dirs
            if not d.startswith("..") and os.path.normpath(os.path.join(root, d)) not in skipped
        )
        for name in files:
            if name.startswith(".."):
                continue
            path = os.path.join(root, name)
            try:
                stat = os.stat(path)
            except FileNotFoundError:  # removed while walking; the next poll sees the result
                continue
            relative = os.path.relpath(path, directory)
            found.append((relative, stat.st_size, stat.st_mtime_ns, stat.st_ino))
    return tuple(sorted(found))


@dataclass(frozen=True, slots=True)
class Loaded:
    """Valid knowledge, ready to serve."""

    router: Router
    fingerprint: Fingerprint


@dataclass(frozen=True, slots=True)
class Rejected:
    """An invalid edit, and why (one line)."""

    reason: str


def one_line(error: BaseException) -> str:
    return " ".join(str(error).split())


class KnowledgeWatcher:
    """Tells when the knowledge directory has changed and settled, and loads it.

    Not safe to use from two threads at once; the callers run one load at a time.
    """

    def __init__(self, directory: Path, loaded: Fingerprint | None = None) -> None:
        self.directory = directory
        self._current = fingerprint(directory) if loaded is None else loaded
        self._last_seen = self._current

    def settled_change(self) -> bool:
        """True when the files differ from the last version loaded (or rejected) and have
        not moved since the previous poll."""
        seen = fingerprint(self.directory)
        settled = seen != self._current and seen == self._last_seen
        self._last_seen = seen
        return settled

    def try_load(self, trigger: str) -> Loaded | Rejected | None:
        """Load the directory as it is now.

        Returns :class:`Loaded`, or :class:`Rejected` after one warning line, or None when
        the files changed during loading (the next poll tries again).
        """
        before = fingerprint(self.directory)
        outcome: Loaded | Rejected
        try:
            outcome = Loaded(Router(load_knowledge(self.directory)), before)
        except KnowledgeError as error:
            outcome = Rejected(one_line(error))
        except Exception as error:  # a router that cannot be built from it is invalid too
            outcome = Rejected(f"{type(error).__name__}: {one_line(error)}")
        if fingerprint(self.directory) != before:
            log.info("knowledge changed while loading (%s); loading again shortly", trigger)
            return None
        self._current = self._last_seen = before
        if isinstance(outcome, Rejected):
            log.warning(
                "knowledge reload rejected (%s); still serving the previous knowledge: %s",
                trigger,
                outcome.reason,
            )
        return outcome
