# Eddy in a container: the self-contained build of scripts/publish.sh on Debian (librdkafka, the Kafka client's
# native library, is inside that build). Build it with the script first, the same one scripts/walkthrough-test.sh runs:
#   scripts/publish.sh && docker build -t eddy .
# (or `docker compose up --build` after scripts/publish.sh; see docker-compose.yml).
FROM debian:12-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libicu72 ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY artifacts/publish/bin /opt/eddy/bin
COPY artifacts/publish/examples /opt/eddy/examples
COPY artifacts/publish/geo /opt/eddy/geo
ENV PATH=/opt/eddy/bin:$PATH \
    EDDY_HOME=/var/lib/eddy \
    EDDY_GEO_DATABASE=/opt/eddy/geo
WORKDIR /opt/eddy
VOLUME /var/lib/eddy
EXPOSE 8081
ENTRYPOINT ["eddy"]
CMD ["server", "--bind", "0.0.0.0", "--port", "8081"]
