#!/usr/bin/env node
/**
 * The worker container's entry point (`node dist/worker.mjs`, or `tsx packages/worker/src/main.ts`
 * in development). See run.ts and docs/worker.md.
 *
 * On Fargate the secrets linked to the service (infra/secrets.ts `workerLink`) arrive through SST
 * and are mapped here to the variables run.ts reads; variables set explicitly win.
 */
import { linkedEnv } from "@workstream/core/linked-env";
import { runWorkerProcess } from "./run.ts";

/** Environment variable ← the SST secret it falls back to. */
export const WORKER_SECRETS: Readonly<Record<string, string>> = {
  WORKSTREAM_REDIS_URL: "UpstashRedisTcpUrl",
  QSTASH_TOKEN: "QStashToken",
  WORKSTREAM_ENCRYPTION_KEYS: "PayloadEncryptionKey",
};

const code = await runWorkerProcess({ argv: process.argv.slice(2), env: linkedEnv(WORKER_SECRETS) });
process.exit(code);
