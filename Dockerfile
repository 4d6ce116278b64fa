# syntax=docker/dockerfile:1

# Build a static binary. The templ-generated *_templ.go files are committed,
# so no code generation runs here.
FROM golang:1.26 AS build
WORKDIR /src

# Dependencies first: this layer stays cached until go.mod or go.sum change.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download

COPY . .
ARG VERSION=dev
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -buildvcs=false \
      -ldflags "-s -w -X main.version=${VERSION}" \
      -o /out/dashboard .

# distroless/static carries CA certificates (for TLS to Neon and its API) and
# tzdata, no shell, and runs as uid 65532.
FROM gcr.io/distroless/static-debian12:nonroot
ARG VERSION=dev
LABEL org.opencontainers.image.title="neonauth-dashboard" \
      org.opencontainers.image.description="Self-hosted admin dashboard for Neon Auth" \
      org.opencontainers.image.version="${VERSION}"
COPY --from=build /out/dashboard /usr/local/bin/dashboard
# The dashboard defaults to loopback; in a container it must listen on all
# interfaces for the published port to reach it.
ENV LISTEN_ADDR=0.0.0.0:8080
EXPOSE 8080
USER nonroot:nonroot
ENTRYPOINT ["/usr/local/bin/dashboard", "serve"]
