# phiguard container image: a static-ish release binary on Debian slim, running as non-root.
#   docker build -t phiguard .
#   docker run --rm -p 8080:8080 -v $PWD/config:/etc/phiguard phiguard
FROM rust:1-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends cmake \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY crates ./crates
COPY src ./src
COPY config ./config
COPY benches ./benches
RUN cargo build --release --locked --bin phiguard \
 && strip target/release/phiguard

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --no-create-home phiguard
COPY --from=build /src/target/release/phiguard /usr/local/bin/phiguard
COPY config/phiguard.yaml /etc/phiguard/phiguard.yaml
USER 10001
# 8080: public listener, 9901: admin (/metrics, /livez, /readyz)
EXPOSE 8080 9901
ENTRYPOINT ["/usr/local/bin/phiguard"]
CMD ["run", "--config", "/etc/phiguard/phiguard.yaml"]
