"""Micro-batching across concurrent requests: images wait up to ``wait_ms`` for company, then one worker
thread reads up to ``max_images`` of them in one pipeline call (their strips share recogniser batches)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import numpy as np

from model.structures import Read

ReadBatch = Callable[[list[np.ndarray]], list[list[Read]]]


class MicroBatcher:
    def __init__(self, read_batch: ReadBatch, *, max_images: int = 8, wait_ms: float = 8.0) -> None:
        self.read_batch = read_batch
        self.max_images = max(1, max_images)
        self.wait_s = max(0.0, wait_ms) / 1000
        self.queue: asyncio.Queue[tuple[np.ndarray, asyncio.Future]] = asyncio.Queue()
        self.task: asyncio.Task | None = None

    def start(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self.task:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task

    async def read(self, rgb: np.ndarray) -> list[Read]:
        """Reads of one image, computed in a shared batch."""
        fut: asyncio.Future = asyncio.get_running_loop().create_future()
        await self.queue.put((rgb, fut))
        return await fut

    async def _run(self) -> None:
        while True:
            batch = [await self.queue.get()]
            deadline = asyncio.get_running_loop().time() + self.wait_s
            while len(batch) < self.max_images:
                left = deadline - asyncio.get_running_loop().time()
                if left <= 0:
                    break
                try:
                    batch.append(await asyncio.wait_for(self.queue.get(), left))
                except TimeoutError:
                    break
            live = [(img, fut) for img, fut in batch if not fut.done()]
            if not live:
                continue
            try:
                results = await asyncio.to_thread(self.read_batch, [img for img, _ in live])
            except Exception as exc:  # the pipeline failed for the batch: every waiting request hears why
                for _, fut in live:
                    if not fut.done():
                        fut.set_exception(exc)
                continue
            for (_, fut), reads in zip(live, results):
                if not fut.done():
                    fut.set_result(reads)
