FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY config config
COPY intake intake
COPY moderation moderation
COPY publish publish
COPY workers workers
RUN pip install --no-cache-dir . && useradd --system --home /app ogp && mkdir -p /srv/site && chown ogp /srv/site
USER ogp
CMD ["ogp-feedback", "--help"]
