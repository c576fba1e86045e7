# syntax=docker/dockerfile:1
#
# ocpp-splitter container image: `docker build -t ocpp-splitter .`
#
# The build stage packs the package exactly as `npm pack` does for the registry and installs that tarball
# (production dependencies only) into /opt/ocpp-splitter, the same steps as test/packaging/pack.test.ts runs
# in CI. The runtime stage copies that installation: no compiler, no dev dependencies, no sources.

# Node.js 24 LTS: its Alpine image exists for linux/amd64 and linux/arm64, the platforms the workflows publish,
# but not for 32-bit ARM (Node.js 24 made armv7 experimental and the official image dropped arm32v6/arm32v7).
# On a 32-bit ARM device, build with `--build-arg NODE_VERSION=22` (node:22-alpine still has linux/arm/v7).
ARG NODE_VERSION=24

FROM node:${NODE_VERSION}-alpine AS build
# better-sqlite3 and bufferutil are native addons: built here when no prebuilt binary fits.
RUN apk add --no-cache python3 make g++
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json README.md CHANGELOG.md LICENSE ./
COPY config.schema.json config.example.json config.example.yaml ./
COPY src ./src
# The dashboard's sources and its bundler script: `npm run build` (prepack) bundles them into dist/dashboard/.
COPY dashboard ./dashboard
COPY scripts/build-dashboard.js ./scripts/
# prepack builds dist/; the tarball holds what `files` in package.json lists.
RUN npm pack --pack-destination /tmp \
 && mv /tmp/ocpp-splitter-*.tgz /tmp/ocpp-splitter.tgz
WORKDIR /opt/ocpp-splitter
# allowScripts: npm 11 runs the native addons' install scripts only for packages listed there.
RUN echo '{"name":"ocpp-splitter-install","private":true,"allowScripts":{"better-sqlite3":true,"bufferutil":true}}' > package.json \
 && npm install --omit=dev --no-audit --no-fund /tmp/ocpp-splitter.tgz

FROM node:${NODE_VERSION}-alpine
# RUNTIME_DIR: where the proxy writes the address it really listens on (listen-<pid>.json) for the HEALTHCHECK,
# so the check follows --port, PORT or a config file's port alike. /tmp is writable whatever the user.
ENV NODE_ENV=production \
    DATA_DIR=/data \
    RUNTIME_DIR=/tmp/ocpp-splitter \
    PATH=/opt/ocpp-splitter/node_modules/.bin:$PATH
# CONFIG_FILE is left at its default, /data/options.json (the Home Assistant options file): a missing default
# file is fine, so `docker run -e PRIMARY_CSMS_URL=…` works without any file. docker-compose.yml sets
# CONFIG_FILE=/data/config.json.
COPY --from=build /opt/ocpp-splitter /opt/ocpp-splitter
# /data holds the mirror store (ocpp-splitter.sqlite) and, with Compose, config.json. Owned by the unprivileged
# user so a named volume is writable; for a bind mount (./data:/data) the host directory must be writable by
# uid 1000 (`node`).
RUN mkdir -p /data && chown node:node /data
VOLUME /data
WORKDIR /data
USER node
EXPOSE 9000
# Asks GET /healthz at the address in $RUNTIME_DIR (see above); unhealthy until the proxy listens.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "/opt/ocpp-splitter/node_modules/ocpp-splitter/dist/healthcheck.js"]
# SIGTERM (docker stop) closes every charger with 1001 and exits 0 within 10 s, Docker's default grace period.
STOPSIGNAL SIGTERM
ENTRYPOINT ["ocpp-splitter"]
