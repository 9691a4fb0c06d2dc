# Tokenwise: non-root image running `tokenwise serve`.
# The install step is the one scripts/setup runs: pip install of this project from PyPI packages.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY router ./router
COPY policies ./policies
COPY pricing.json ./
RUN python -m venv /opt/tokenwise \
 && /opt/tokenwise/bin/python -m pip install --no-cache-dir --upgrade pip \
 && /opt/tokenwise/bin/python -m pip install --no-cache-dir .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 tokenwise
COPY --from=build /opt/tokenwise /opt/tokenwise
ENV PATH="/opt/tokenwise/bin:$PATH" \
    TOKENWISE_HOME=/var/lib/tokenwise \
    PYTHONUNBUFFERED=1
RUN mkdir -p /var/lib/tokenwise && chown tokenwise /var/lib/tokenwise
USER tokenwise
WORKDIR /home/tokenwise
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz').status != 200)"
ENTRYPOINT ["tokenwise"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
