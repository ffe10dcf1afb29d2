"""Training strips that grow during a run: shards land in a folder while a trainer draws batches from them.

A GPU consumes strips faster than one renderer makes them, so renderers write shards into a folder (each written
atomically: a shard appears whole or not at all) and the trainer's :class:`WatchedShards` adds each one as it
lands. Used by both CTC trainers (``training.recognizer --watch``, ``training.lot_recognizer --watch``).
"""

from __future__ import annotations

import argparse
import logging
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

Batch = tuple[np.ndarray, list[list[int]]]


def save_shard(path: Path, **arrays: np.ndarray) -> None:
    """``np.savez_compressed`` under a temporary name, then renamed: a watching trainer never reads half a shard."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        np.savez_compressed(f, **arrays)
    os.replace(tmp, path)


def add_watch_args(ap: argparse.ArgumentParser, pattern: str) -> None:
    """A trainer's ``--watch DIR`` (shards matching ``pattern`` in DIR join the training strips as they land) and
    ``--watch-min N``."""
    ap.add_argument("--watch", type=Path, metavar="DIR", help=f"add the DIR/{pattern} that appear while training")
    ap.add_argument("--watch-min", type=int, default=10000, metavar="N",
                    help="with --watch: wait for N training strips before the first step")


class Shard(Protocol):
    """A loaded set of training strips: its size and random batches from it."""

    def __len__(self) -> int: ...

    def batches(self, rng: np.random.Generator, n: int) -> Batch: ...


class WatchedShards:
    """Starting strips plus every shard matching ``pattern`` that appears in ``folder`` (looked for every
    ``poll_s`` seconds and loaded with ``load``, which may refuse a shard by raising). Batches draw from all strips
    alike; the first waits for ``min_strips``, and gives up when ``max_wait_s`` pass with no new shard (the
    renderers died)."""

    def __init__(self, start: Shard, folder: Path, load: Callable[[Sequence[Path]], Shard], min_strips: int, *,
                 pattern: str = "*.npz", poll_s: float = 15.0, max_wait_s: float = 600.0) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.sets: list[Shard] = [start] if len(start) else []
        self.folder, self.load, self.pattern = folder, load, pattern
        self.min_strips, self.poll_s, self.max_wait_s = min_strips, poll_s, max_wait_s
        self.seen: set[Path] = set()
        self.last_poll = -float("inf")

    def __len__(self) -> int:
        return sum(len(s) for s in self.sets)

    def manifest(self) -> dict:
        """What a bundle's manifest records of the watched strips."""
        return {"watched": str(self.folder), "watched_n": len(self)}

    def poll(self) -> int:
        """Load the shards that appeared since the last look; returns how many."""
        self.last_poll = time.monotonic()
        new = sorted(p for p in self.folder.glob(self.pattern) if p not in self.seen)
        if not new:
            return 0
        self.seen.update(new)
        self.sets.append(self.load(new))
        logging.info("watch: %d shards more, %d training strips", len(new), len(self))
        return len(new)

    def batches(self, rng: np.random.Generator, n: int) -> Batch:
        if time.monotonic() - self.last_poll >= self.poll_s:
            self.poll()
        waited_since = time.monotonic()
        while len(self) < max(1, self.min_strips):
            if time.monotonic() - waited_since > self.max_wait_s:
                raise TimeoutError(f"{len(self)} training strips after {self.max_wait_s:.0f} s with no new shard "
                                   f"in {self.folder} (want {self.min_strips})")
            time.sleep(min(2.0, self.max_wait_s / 4))
            if self.poll():
                waited_since = time.monotonic()
        sizes = np.array([len(s) for s in self.sets], np.float64)
        counts = np.bincount(rng.choice(len(sizes), n, p=sizes / sizes.sum()), minlength=len(sizes))
        parts = [s.batches(rng, int(k)) for s, k in zip(self.sets, counts) if k]
        return np.concatenate([x for x, _ in parts]), [y for _, ys in parts for y in ys]
