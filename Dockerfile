# syntax=docker/dockerfile:1
# linkscope for production: the Neo4j-only install (no embedded engine, so nothing to compile).
# Build: docker build -t linkscope .   Run: see docker-compose.yml and README ("Production").
ARG PYTHON_IMAGE=python:3.12-slim-bookworm

# Builder: the linkscope wheel, then binary wheels of every dependency. --only-binary makes a
# dependency without a wheel for this platform fail the build here instead of needing a compiler.
FROM ${PYTHON_IMAGE} AS builder
WORKDIR /src
COPY pyproject.toml README.md ./
COPY linkscope ./linkscope
COPY cli ./cli
COPY synth ./synth
COPY ingest ./ingest
COPY graph ./graph
COPY events ./events
COPY analytics ./analytics
COPY api ./api
COPY ui_static ./ui_static
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels . \
 && pip wheel --no-cache-dir --only-binary=:all: --wheel-dir /wheels /wheels/linkscope-*.whl

# Runtime: the wheels installed from the builder (no index: nothing fetched, nothing built),
# a non-root user, and state (API keys, event store) under one directory meant for a volume.
FROM ${PYTHON_IMAGE} AS runtime
RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \
    pip install --no-cache-dir --no-index --only-binary=:all: --find-links /wheels linkscope \
 && useradd --system --uid 10001 --user-group --home-dir /var/lib/linkscope --create-home \
        --shell /usr/sbin/nologin linkscope \
 && chmod 0700 /var/lib/linkscope
ENV PYTHONUNBUFFERED=1 \
    LINKSCOPE_KEYS_FILE=/var/lib/linkscope/keys.json \
    LINKSCOPE_EVENTS_DIR=/var/lib/linkscope/events
USER linkscope
WORKDIR /var/lib/linkscope
EXPOSE 8000
# No curl in a slim image; Python is there. /ready answers 200 once the store answers.
HEALTHCHECK --interval=15s --timeout=6s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/ready', timeout=5)"]
CMD ["linkscope", "serve", "--host", "0.0.0.0", "--port", "8000"]
