# syntax=docker/dockerfile:1
#
# startup-tracer image: the single compiled binary on a small glibc base.
#
#   make build                      # → dist/startup-tracer (bun build --compile, linux glibc)
#   docker build -t startup-tracer .
#
# The binary is built outside the image (bun is pinned in package.json and the build needs only
# the npm registry). Base: debian:bookworm-slim rather than distroless so the image has `cp` —
# the wrapper deployment (deploy/wrapper/) copies the binary into the vLLM container from an
# init container. Bun bundles its own CA certificates, so OTLP over https needs no ca-certificates.
FROM debian:bookworm-slim

RUN groupadd --system --gid 10001 tracer \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin tracer

COPY --chmod=0755 dist/startup-tracer /usr/local/bin/startup-tracer

USER 10001:10001
EXPOSE 9464
ENTRYPOINT ["/usr/local/bin/startup-tracer"]
CMD ["--help"]
