# The image charts/kg runs: one `kg` entrypoint for every role (serve, api, webhooks, worker,
# scheduler). Built as tests/test_wheel.py builds and installs kg: a wheel, then pip.

FROM python:3.11-slim AS wheel
WORKDIR /src
# kg/resources/ holds symlinks to queries/ and ontology/: all four go in together, and the
# wheel carries copies of the files (the source tree is not in the final image).
COPY pyproject.toml README.md ./
COPY kg ./kg
COPY webhooks ./webhooks
COPY queries ./queries
COPY ontology ./ontology
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11-slim
# git: kg clones and fetches the repositories it ingests
RUN apt-get update \
    && apt-get install -y --no-install-recommends git ca-certificates \
    && rm -rf /var/lib/apt/lists/*
RUN --mount=type=bind,from=wheel,source=/wheels,target=/wheels \
    pip install --no-cache-dir /wheels/kg-*.whl
# A numeric user, so that Kubernetes' runAsNonRoot can tell it is not root.
RUN groupadd --system --gid 10001 kg \
    && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/kg --shell /usr/sbin/nologin kg \
    && install -d -o 10001 -g 10001 /var/lib/kg
ENV KG_DATA_DIR=/var/lib/kg \
    KG_HOST=0.0.0.0 \
    KG_PORT=8080 \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
USER 10001:10001
WORKDIR /var/lib/kg
EXPOSE 8080
# No HEALTHCHECK: the worker and scheduler roles serve no HTTP; Kubernetes probes
# /health and /ready of the roles that do (charts/kg).
ENTRYPOINT ["kg"]
CMD ["serve"]
