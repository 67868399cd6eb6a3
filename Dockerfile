# syntax=docker/dockerfile:1
# The Workstream worker image (Fargate). Multi-stage: the build stage installs the workspace and
# bundles the worker entry (and, with the HANDLER build arg, your job handler) with esbuild; the
# runtime stage holds Node and those bundles only.
#
# With a handler (what `sst deploy` does: infra/worker.ts passes worker.handler from infra/settings.ts):
#   docker build --build-arg HANDLER=worker/handler.ts -t workstream-worker .
# bundles that module (a path in this repo) into /app/dist/handler.mjs and sets
# WORKSTREAM_HANDLER to it. Without HANDLER this is a base image, to which you add a handler:
#   FROM workstream-worker
#   COPY --chown=node:node dist/handler.mjs /app/handler.mjs   # a self-contained ESM bundle
#   ENV WORKSTREAM_HANDLER=/app/handler.mjs
# See docs/worker.md.

# Pinned: the same Node major as the Lambda runtime (nodejs22.x). Bump deliberately.
ARG NODE_IMAGE=node:22.12.0-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages ./packages
# --ignore-scripts: nothing the bundle needs runs an install script (esbuild ships its binary as an
# optional dependency); sst's would download binaries the image never uses.
RUN npm ci --no-audit --no-fund --ignore-scripts
RUN npm run build:worker
# The handler may live anywhere in the repo and import anything package.json installs, so the whole
# context comes in (.dockerignore keeps node_modules, dist, .sst and .git out). It is bundled with
# the flags of `npm run build:worker`: ESM for Node 22, and a `require` for the CommonJS
# dependencies (ioredis: "Dynamic require of events is not supported" without it).
ARG HANDLER=
COPY . .
RUN if [ -n "$HANDLER" ]; then \
      node_modules/.bin/esbuild "$HANDLER" --bundle --platform=node --format=esm --target=node22 \
        --outfile=dist/handler.mjs \
        --banner:js="import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);"; \
    fi

FROM ${NODE_IMAGE} AS runtime
ARG HANDLER=
ENV NODE_ENV=production
# Empty without HANDLER: the worker then asks for WORKSTREAM_HANDLER, which a derived image sets.
ENV WORKSTREAM_HANDLER=${HANDLER:+/app/dist/handler.mjs}
WORKDIR /app
# dist/worker.mjs, and dist/handler.mjs when HANDLER was given.
COPY --from=build --chown=node:node /app/dist/ /app/dist/
# The official image's unprivileged user (uid 1000).
USER node
# ECS sends SIGTERM on scale-in and deploys; the worker drains for WORKSTREAM_SHUTDOWN_GRACE_MS
# (default 110 s) and exits 0. The task definition's stopTimeout must exceed it (infra/worker.ts).
STOPSIGNAL SIGTERM
CMD ["node", "dist/worker.mjs"]
