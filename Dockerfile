# MRO dashboard for a GPU workstation.
#   docker build -t mro .
#   docker run --gpus all --read-only --tmpfs /tmp -p 127.0.0.1:8501:8501 \
#       -v "$PWD/runs:/app/runs" -v /data:/app/data:ro mro
# The base image carries CUDA PyTorch 2.13.0 (the version requirements.txt pins), so pip keeps it.
# Tags follow the publisher's <torch>-cuda<X.Y>-cudnn<N>-<runtime|devel> (pytorch/pytorch,
# .github/workflows/docker-release.yml); another CUDA: --build-arg BASE_IMAGE=pytorch/pytorch:2.13.0-cuda12.6-cudnn9-runtime.
# `make docker-check` builds this file on a local CPU stand-in base (scripts/docker/base.Dockerfile).
ARG BASE_IMAGE=pytorch/pytorch:2.13.0-cuda13.0-cudnn9-runtime
FROM ${BASE_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    MRO_WORKSPACE=/app/runs \
    MRO_DATA_ROOT=/app/data

WORKDIR /app

# Dependencies first: this layer is rebuilt only when requirements.txt changes.
COPY requirements.txt .
RUN python -m pip install --no-cache-dir -r requirements.txt

COPY pyproject.toml README.md ./
COPY mro_core ./mro_core
COPY app ./app
COPY .streamlit ./.streamlit
COPY checkpoints ./checkpoints
RUN python -m pip install --no-cache-dir --no-deps -e . \
    && mkdir -p /app/runs /app/data \
    && chown -R 10001:10001 /app/runs /app/data

USER 10001
EXPOSE 8501
VOLUME ["/app/runs", "/app/data"]

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4).read() == b'ok' else 1)"]

CMD ["streamlit", "run", "app/main.py", "--server.address", "0.0.0.0", "--server.port", "8501"]
