# PLACEHOLDER until the orchestration issue: it builds a CPU image of dapt that runs `dapt` as its entrypoint.
# The GPU image (CUDA runtime base, CUDA torch, DeepSpeed ops prebuilt, non-root user) replaces it there.
FROM python:3.11-slim
WORKDIR /opt/dapt
COPY pyproject.toml README.md ./
COPY dapt ./dapt
COPY pipelines ./pipelines
RUN pip install --no-cache-dir --index-url https://download.pytorch.org/whl/cpu torch==2.13.0 \
 && pip install --no-cache-dir .
ENV HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 HF_EVALUATE_OFFLINE=1 PREFECT_SERVER_ANALYTICS_ENABLED=false
ENTRYPOINT ["dapt"]
CMD ["--help"]
