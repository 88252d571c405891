# deeptricks: the explorables served by `deeptricks serve` on port 5006.
#
#   docker build -t deeptricks .
#   docker run -p 5006:5006 -e DEEPTRICKS_ALLOW_WEBSOCKET_ORIGIN=localhost:5006 deeptricks
#
# DEEPTRICKS_ALLOW_WEBSOCKET_ORIGIN lists the hosts (comma-separated HOST:PORT) whose pages
# may open sessions: the address learners type, and any course site that embeds the pages.
# tests/test_dockerfile.py performs this file's install and start steps in a fresh venv.

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DEEPTRICKS_ALLOW_WEBSOCKET_ORIGIN=localhost:5006
COPY deploy/requirements.lock /tmp/requirements.lock
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir -r /tmp/requirements.lock
RUN pip install --no-cache-dir --no-deps /wheels/*.whl
RUN useradd --create-home --uid 10001 deeptricks && rm -rf /wheels /tmp/requirements.lock
USER deeptricks
WORKDIR /home/deeptricks
EXPOSE 5006
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:5006/liveness', timeout=4)"
CMD ["deeptricks", "serve", "--address", "0.0.0.0", "--port", "5006"]
