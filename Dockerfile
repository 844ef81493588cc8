FROM python:3.12-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY linkscope ./linkscope
COPY ingest ./ingest
COPY graph ./graph
COPY analytics ./analytics
COPY api ./api
RUN pip install --no-cache-dir .
ENTRYPOINT []
