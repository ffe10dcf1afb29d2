"""Micro-batching across concurrent requests: batches fill up to the limit, results go back to their callers,
a failure reaches every caller of that batch and the next batch still runs."""

import asyncio

import numpy as np
import pytest

from serve.batcher import MicroBatcher


def test_concurrent_reads_share_batches_and_get_their_own_results():
    sizes = []

    def read_batch(images):
        sizes.append(len(images))
        return [[int(im[0, 0, 0])] for im in images]  # each image's "read" is its first pixel

    async def main():
        b = MicroBatcher(read_batch, max_images=4, wait_ms=50)
        b.start()
        images = [np.full((2, 2, 3), k, np.uint8) for k in range(6)]
        results = await asyncio.gather(*[b.read(im) for im in images])
        await b.stop()
        return results

    results = asyncio.run(main())
    assert results == [[k] for k in range(6)]
    assert sizes == [4, 2]


def test_a_failed_batch_reaches_its_callers_and_the_batcher_goes_on():
    calls = []

    def read_batch(images):
        calls.append(len(images))
        if len(calls) == 1:
            raise RuntimeError("model failed")
        return [["ok"] for _ in images]

    async def main():
        b = MicroBatcher(read_batch, max_images=8, wait_ms=20)
        b.start()
        first = await asyncio.gather(*[b.read(np.zeros((2, 2, 3), np.uint8)) for _ in range(2)],
                                     return_exceptions=True)
        second = await b.read(np.zeros((2, 2, 3), np.uint8))
        await b.stop()
        return first, second

    first, second = asyncio.run(main())
    assert all(isinstance(e, RuntimeError) for e in first)
    assert second == ["ok"]


@pytest.mark.parametrize("wait_ms", [0.0, 5.0])
def test_a_lone_request_is_not_held_back(wait_ms):
    async def main():
        b = MicroBatcher(lambda ims: [[len(ims)] for _ in ims], max_images=8, wait_ms=wait_ms)
        b.start()
        out = await asyncio.wait_for(b.read(np.zeros((1, 1, 3), np.uint8)), 2.0)
        await b.stop()
        return out

    assert asyncio.run(main()) == [1]
