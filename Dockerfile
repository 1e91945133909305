# callrouter server image. Built by docker-compose.yml; runs `callrouter serve`.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /opt/callrouter
# only what the package needs: the build context may also hold a .venv and test data
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install . && rm -rf /opt/callrouter/src

# The journal of message records not yet committed ([database] journal_dir) is a volume
# (docker-compose.yml), so that a record a killed router left there outlives a new container.
RUN useradd --system --home-dir /var/lib/callrouter --create-home callrouter \
    && install -d -o callrouter -g callrouter /var/lib/callrouter/callrouter-journal
USER callrouter
WORKDIR /var/lib/callrouter

EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/health', timeout=2)"]

ENTRYPOINT ["callrouter"]
CMD ["serve", "--host", "0.0.0.0"]
