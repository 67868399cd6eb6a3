/**
 * The local stack, in-process: a private redis-server, the Upstash REST stand-in in front of it,
 * the HTTP API serving the very same Lambda handlers (through @upstash/redis, as in AWS), the
 * same maintenance the every-minute reclaim cron runs (runMaintenance), every few seconds, and
 * optionally worker processes (local-worker.ts). `npm run dev` (dev.ts) prints its URLs; end-to-end
 * tests start it directly.
 *
 * The handlers read their configuration from the environment on first use, so this sets the
 * variables (unless already set) before the first request: Upstash URL/token of the stand-in, a
 * per-run admin key and payload encryption key.
 */
import { randomBytes } from "node:crypto";
import { createNotifyContext, generateApiKey, jsonLineLogger, notifyConfigFromEnv, runMaintenance, type StructuredLogger } from "../../core/src/index.ts";
import { dispatch } from "../../../functions/_lib/router.ts";
import { closeRuntime, runtime } from "../../../functions/_lib/runtime.ts";
import { startHttpApi } from "./http-server.ts";
import { startLocalWorker } from "./local-worker.ts";
import { startRedisServer } from "./redis-server.ts";
import { startUpstashRest } from "./upstash-rest.ts";

export interface DevStackOptions {
  /** HTTP API port (default: a free one). */
  port?: number;
  redisPort?: number;
  /** Run the maintenance (runMaintenance, as the reclaim cron) every `tickMs` (default 5000); false disables it. */
  tick?: boolean;
  tickMs?: number;
  /** Extra environment for the handlers (e.g. WORKSTREAM_KEY_PREFIX). */
  env?: Record<string, string>;
  /**
   * Worker processes to run (the real worker entry, over TCP to the private redis-server, with the
   * stack's key prefix, encryption keys and notifications): `count` of them running `handler` (a
   * module path). Default: none.
   */
  workers?: { handler: string; count?: number; concurrency?: number } | null;
  /** Where the workers' log lines go (default: stdout, each prefixed with the worker's name). */
  workerLog?: (line: string) => void;
}

export interface DevStack {
  apiUrl: string;
  redisUrl: string;
  upstashUrl: string;
  adminKey: string;
  /** The worker processes' ids (empty without `workers`). */
  workerIds: string[];
  stop(): Promise<void>;
}

export async function startDevStack(opts: DevStackOptions = {}): Promise<DevStack> {
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const s of stops.splice(0).reverse()) await s().catch((e: unknown) => console.error("dev stack: stop failed", e));
  };
  try {
    const redis = await startRedisServer({ ...(opts.redisPort !== undefined && { port: opts.redisPort }) });
    stops.push(() => redis.stop());
    const token = randomBytes(24).toString("base64url");
    const rest = await startUpstashRest({ redisUrl: redis.url, token });
    stops.push(() => rest.close());

    const env = process.env;
    Object.assign(env, opts.env ?? {});
    delete env["WORKSTREAM_REDIS_URL"]; // the handlers must go through REST, as in AWS
    env["UPSTASH_REDIS_REST_URL"] = rest.url;
    env["UPSTASH_REDIS_REST_TOKEN"] = rest.token;
    env["WORKSTREAM_ADMIN_KEY"] ||= generateApiKey().key;
    env["WORKSTREAM_ENCRYPTION_KEYS"] ||= `local:${randomBytes(32).toString("base64")}`;
    await closeRuntime(); // a runtime from earlier configuration must not survive
    const rt = runtime();
    stops.push(() => closeRuntime());

    const http = await startHttpApi({ dispatch, ...(opts.port !== undefined && { port: opts.port }) });
    stops.push(() => http.close());

    if (opts.tick !== false) {
      const queueNames = rt.engine.queues.ordered.map((q) => q.name);
      const notify = createNotifyContext({ config: notifyConfigFromEnv(env), jobs: rt.engine, queueNames });
      // Every 5 s a run that did nothing would drown the console: report only runs that acted.
      const quiet: StructuredLogger = {
        log(record) {
          const acted = ["reclaimed", "promoted", "expired", "reconciled", "deadLetters", "deliveries"].some((k) => Number(record[k] ?? 0) > 0);
          if (record.level !== "info" || record.event !== "maintenance.run" || acted) jsonLineLogger.log(record);
        },
      };
      const maintenance = { engine: rt.engine, redis: rt.port, notify, log: quiet };
      let running = false;
      const timer = setInterval(() => {
        if (running) return;
        running = true;
        runMaintenance(maintenance)
          .catch((e: unknown) => console.error("dev stack: maintenance failed", e))
          .finally(() => (running = false));
      }, opts.tickMs ?? 5000);
      timer.unref();
      stops.push(async () => clearInterval(timer));
    }
    const workerIds: string[] = [];
    if (opts.workers) {
      const log = opts.workerLog ?? ((line: string) => console.log(line));
      for (let i = 0; i < (opts.workers.count ?? 1); i++) {
        const id = `local-worker-${i + 1}`;
        const w = await startLocalWorker({
          id,
          handler: opts.workers.handler,
          concurrency: opts.workers.concurrency ?? 4,
          env: {
            WORKSTREAM_REDIS_URL: redis.url,
            WORKSTREAM_KEY_PREFIX: env["WORKSTREAM_KEY_PREFIX"] ?? "",
            WORKSTREAM_ENCRYPTION_KEYS: env["WORKSTREAM_ENCRYPTION_KEYS"] ?? "",
            WORKSTREAM_QUEUE_CONFIG: env["WORKSTREAM_QUEUE_CONFIG"] ?? "",
            WORKSTREAM_NOTIFY_MODE: env["WORKSTREAM_NOTIFY_MODE"] ?? "",
          },
          log,
        });
        stops.push(() => w.stop());
        workerIds.push(id);
      }
    }
    return { apiUrl: http.url, redisUrl: redis.url, upstashUrl: rest.url, adminKey: env["WORKSTREAM_ADMIN_KEY"]!, workerIds, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
