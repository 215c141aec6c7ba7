# kycbot's container image: a static binary on a distroless base, run as a
# user without privileges. Build from the repository's root:
#
#     docker build -t kycbot .
#
# docs/getting-started.md ("Install") and docs/deploy/compose.yaml show
# how to run it with a config, the key and Redis.

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# Static: no C library needed at run time. Passport's RSA then runs on Go's
# crypto/rsa, not the system's OpenSSL (docs/performance.md says what that
# costs: a small part of a verification).
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/kycbot ./cmd/kycbot

# distroless/static: CA certificates, /tmp and a "nonroot" user (65532),
# no shell, no package manager.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/kycbot /usr/local/bin/kycbot
USER 65532:65532
WORKDIR /etc/kycbot
# web.listen (the request page; put it behind your HTTPS reverse proxy).
# web.ops_listen (health and metrics) stays on 127.0.0.1 unless you set it.
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/kycbot"]
CMD ["run", "--config", "/etc/kycbot/config.yaml"]
