# CPU inference image: ONNX Runtime only (no torch). Build from the repository root:
#   docker build -t marktrace .
#   docker run --rm -v "$PWD/photos:/data" marktrace batch /data --out /data/preds.jsonl
# The registry (SQLite) lives under MARKTRACE_DATA_DIR; mount a volume there to keep it:
#   docker run --rm -e MARKTRACE_DATA_DIR=/var/lib/marktrace -v marktrace:/var/lib/marktrace marktrace lots search 12-14-451
# The HTTP service (upload page at /, API at /v1, OpenAPI at /docs):
#   docker run --rm -p 8000:8000 -v marktrace:/var/lib/marktrace -e MARKTRACE_DATA_DIR=/var/lib/marktrace \
#       marktrace serve --host 0.0.0.0 --port 8000
# GPU: base on nvidia/cuda:12.x-cudnn-runtime, install onnxruntime-gpu instead of onnxruntime and pass
# --device cuda (falls back to CPU with a log line when the CUDA provider is missing).
FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends libgl1 libglib2.0-0 \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY model ./model
COPY serve ./serve
COPY samples ./samples
COPY seeds ./seeds
RUN pip install --no-cache-dir .
EXPOSE 8000
ENTRYPOINT ["marktrace"]
CMD ["read"]
