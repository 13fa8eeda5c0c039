# mimamori worker image (used by docker-compose.yml). The embedded broker is not used here:
# compose runs Apache Kafka.
FROM python:3.11.7-slim-bookworm
WORKDIR /app
COPY pyproject.toml README.md ./
COPY pipeline ./pipeline
COPY wordlists ./wordlists
COPY config ./config
RUN pip install --no-cache-dir . && useradd --system --uid 10001 mimamori
USER mimamori
ENTRYPOINT ["mimamori"]
CMD ["run"]
