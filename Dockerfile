# syntax=docker/dockerfile:1
# The Workstream worker image (Fargate). Multi-stage: the build stage installs the workspace and
# bundles the worker entry with esbuild; the runtime stage holds Node and that one file.
#
# Job handlers are loaded at run time from WORKSTREAM_HANDLER, so this image is a base image:
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

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build --chown=node:node /app/dist/worker.mjs /app/dist/worker.mjs
# The official image's unprivileged user (uid 1000).
USER node
# ECS sends SIGTERM on scale-in and deploys; the worker drains for WORKSTREAM_SHUTDOWN_GRACE_MS
# (default 110 s) and exits 0. The task definition's stopTimeout must exceed it (infra/worker.ts).
STOPSIGNAL SIGTERM
CMD ["node", "dist/worker.mjs"]
