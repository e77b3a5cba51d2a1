# phiguard container image: a release build on Debian slim, running as non-root uid 10001.
#
#   docker build -t phiguard .
#   docker run --rm -p 8080:8080 -v "$PWD/my-config:/etc/phiguard:ro" phiguard
#
# The mounted directory must hold phiguard.yaml with listeners/admin on 0.0.0.0 (inside a
# container, 127.0.0.1 is unreachable from outside); config/kubernetes/configmap.yaml is a
# complete example. phiguard writes nothing to disk (logs and access log go to stdout/stderr),
# so it runs with a read-only root filesystem. No HEALTHCHECK: Kubernetes probes the admin
# listener's /livez and /readyz instead.

FROM rust:1-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends cmake \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Only what the build needs (benches: Cargo.toml declares a [[bench]]; config: the demo
# config is compiled in).
COPY Cargo.toml Cargo.lock ./
COPY crates ./crates
COPY src ./src
COPY config ./config
COPY benches ./benches
RUN cargo build --release --locked --bin phiguard \
 && strip target/release/phiguard

FROM debian:bookworm-slim
# ca-certificates: TLS upstreams are verified against the system roots.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 phiguard \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin phiguard
COPY --from=build /src/target/release/phiguard /usr/local/bin/phiguard
# Numeric, so Kubernetes can verify runAsNonRoot (tests/packaging.rs checks the manifests'
# runAsUser against it).
USER 10001:10001
# 8080: public listener, 9901: admin (/metrics, /livez, /readyz, /config, POST /reload)
EXPOSE 8080 9901
ENTRYPOINT ["/usr/local/bin/phiguard"]
CMD ["run", "--config", "/etc/phiguard/phiguard.yaml"]
