# syntax=docker/dockerfile:1
# dapt GPU image: CUDA runtime base, the CUDA build of torch 2.13.0, DeepSpeed with its ops compiled at build time
# (no JIT compilation on the GPU node), dapt; runs as a non-root user; the entrypoint is `dapt`.
#
#   docker build -t dapt:gpu .
#   docker run --gpus all -v /path/to/data:/data:ro -v dapt-runs:/runs dapt:gpu run dapt-biomed --data-dir /data --out /runs/dapt-biomed
#
# docker/compose.yaml runs it as a Prefect worker next to a Prefect server on PostgreSQL (docker/README.md).

ARG CUDA_VERSION=12.8.1
ARG UBUNTU=ubuntu24.04

# ---- build: nvcc is needed to compile DeepSpeed's CUDA ops -----------------------------------------------------
FROM nvidia/cuda:${CUDA_VERSION}-cudnn-devel-${UBUNTU} AS build
ARG TORCH_INDEX=https://download.pytorch.org/whl/cu128
# Architectures to compile DeepSpeed's kernels for: A100 (8.0), L4/L40 (8.9), H100/H200 (9.0).
ARG TORCH_CUDA_ARCH_LIST="8.0;8.9;9.0"
ENV DEBIAN_FRONTEND=noninteractive PIP_NO_CACHE_DIR=1 TORCH_CUDA_ARCH_LIST=${TORCH_CUDA_ARCH_LIST}
RUN apt-get update && apt-get install -y --no-install-recommends python3 python3-venv python3-dev git ninja-build \
 && rm -rf /var/lib/apt/lists/*
RUN python3 -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
# torch first, from the CUDA index: the project pins torch==2.13.0, which this build (2.13.0+cu128) satisfies.
RUN pip install --index-url ${TORCH_INDEX} torch==2.13.0
# DeepSpeed's fused Adam, CPU Adam (ZeRO offload) and utils ops prebuilt; --no-build-isolation keeps its build on
# the torch above instead of fetching another.
RUN DS_BUILD_FUSED_ADAM=1 DS_BUILD_CPU_ADAM=1 DS_BUILD_UTILS=1 pip install --no-build-isolation "deepspeed>=0.16"
WORKDIR /src
COPY pyproject.toml README.md ./
COPY dapt ./dapt
COPY pipelines ./pipelines
RUN pip install . && python -c "import dapt.cli, pipelines.deployments"

# ---- runtime: CUDA runtime libraries only ------------------------------------------------------------------------
FROM nvidia/cuda:${CUDA_VERSION}-cudnn-runtime-${UBUNTU}
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
    PYTHONUNBUFFERED=1
USER dapt
WORKDIR /runs
ENTRYPOINT ["dapt"]
CMD ["--help"]
