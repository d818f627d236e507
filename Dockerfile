# learnloop container image: build with the Rust toolchain, run on a minimal base.
#   docker build -t learnloop .
#   docker run -p 3000:3000 -v learnloop-data:/data \
#     -e LEARNLOOP_SLACK_SIGNING_SECRET=... -e LEARNLOOP_SLACK_BOT_TOKEN=xoxb-... learnloop

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
# Dependencies first, so code changes do not rebuild them.
COPY Cargo.toml Cargo.lock ./
RUN mkdir src && echo 'fn main() {}' > src/main.rs && touch src/lib.rs \
    && cargo build --release --locked \
    && rm -rf src
COPY config ./config
COPY migrations ./migrations
COPY src ./src
RUN touch src/main.rs src/lib.rs && cargo build --release --locked
# The data directory must exist and belong to the runtime user (distroless has no shell).
RUN mkdir -p /data

# glibc + libgcc, no shell, no package manager; runs as uid 65532 ("nonroot").
FROM gcr.io/distroless/cc-debian12:nonroot
WORKDIR /app
COPY --from=build /src/target/release/learnloop /app/learnloop
COPY --from=build /src/config /app/config
COPY --from=build --chown=65532:65532 /data /data
ENV LEARNLOOP_LISTEN=0.0.0.0:3000 \
    LEARNLOOP_DATABASE_URL=sqlite:///data/learnloop.db \
    LEARNLOOP_LOG=info
VOLUME ["/data"]
EXPOSE 3000
USER nonroot
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["/app/learnloop", "healthcheck"]
ENTRYPOINT ["/app/learnloop"]
CMD ["serve"]
