"""Load benchmark of the HTTP service on loopback: requests/s and latency at 1, 4 and 16 concurrent clients,
with micro-batching on and off. Bounded: each setting sends a fixed number of one-image /v1/read requests.

    python bench/service.py [--requests 48] [--clients 1 4 16]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from datasets.scenes import render_crop  # noqa: E402


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _images(n: int) -> list[bytes]:
    rng = np.random.default_rng(5)
    out = []
    for _ in range(n):
        buf = io.BytesIO()
        Image.fromarray(render_crop(rng, level="worn", size_px=224).rgb).save(buf, format="JPEG", quality=85)
        out.append(buf.getvalue())
    return out


def start(batch_images: int, data_dir: str) -> tuple[subprocess.Popen, str]:
    port = _port()
    env = {**os.environ, "MARKTRACE_DATA_DIR": data_dir, "MARKTRACE_MICRO_BATCH_IMAGES": str(batch_images)}
    proc = subprocess.Popen([sys.executable, "-m", "serve.cli", "serve", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError("service did not become ready")


async def load(url: str, images: list[bytes], clients: int, total: int) -> tuple[float, list[float]]:
    latencies: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for k in range(total):
        queue.put_nowait(k)

    async def client(http: httpx.AsyncClient) -> None:
        while not queue.empty():
            k = queue.get_nowait()
            t = time.perf_counter()
            r = await http.post(f"{url}/v1/read", files=[("files", (f"{k}.jpg", images[k % len(images)]))])
            r.raise_for_status()
            latencies.append((time.perf_counter() - t) * 1000)

    async with httpx.AsyncClient(timeout=120) as http:
        await http.post(f"{url}/v1/read", files=[("files", ("warm.jpg", images[0]))])
        t0 = time.perf_counter()
        await asyncio.gather(*[client(http) for _ in range(clients)])
        return time.perf_counter() - t0, latencies


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--requests", type=int, default=48)
    ap.add_argument("--clients", type=int, nargs="+", default=[1, 4, 16])
    a = ap.parse_args()
    images = _images(16)
    print("| micro-batching | clients | requests | req/s | p50 ms | p95 ms |\n|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as data_dir:
        for batch in (8, 1):
            proc, url = start(batch, data_dir)
            try:
                for clients in a.clients:
                    wall, lat = asyncio.run(load(url, images, clients, a.requests))
                    q = statistics.quantiles(lat, n=20)
                    label = f"on (≤{batch} images)" if batch > 1 else "off"
                    print(f"| {label} | {clients} | {len(lat)} | {len(lat) / wall:.1f} | {q[9]:.0f} | {q[18]:.0f} |")
            finally:
                proc.terminate()
                proc.wait(timeout=30)


if __name__ == "__main__":
    main()
