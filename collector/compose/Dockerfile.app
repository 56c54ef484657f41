# Image of the FastAPI example app with the spotify-otel distro.
# Build context: the repository root (docker-compose.yml sets context ../../):
#   docker build -f collector/compose/Dockerfile.app -t spotify-otel/example-fastapi:0.1.0 .
FROM python:3.11.13-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# The library first (its layer only changes with the library), then the examples.
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install ".[all]"

COPY examples ./examples
RUN if [ -f examples/requirements.txt ]; then pip install -r examples/requirements.txt; \
    else pip install "fastapi>=0.110" "uvicorn>=0.29"; fi

RUN useradd --uid 10001 --no-create-home --shell /usr/sbin/nologin app
USER 10001
EXPOSE 8000
CMD ["opentelemetry-instrument", "uvicorn", "examples.fastapi_app.app:app", "--host", "0.0.0.0", "--port", "8000"]
