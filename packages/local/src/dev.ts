/**
 * `npm run dev` (or `npx workstream dev`): the local stack on 127.0.0.1 — private redis-server,
 * Upstash REST stand-in, the HTTP API (the same Lambda handlers, through @upstash/redis), the
 * maintenance tick, worker processes (one by default, running the example handler) — and
 * ready-to-paste `export` lines and examples (banner.ts). Ctrl-C stops everything it started.
 *
 *   npm run dev -- [--port 8787] [--redis-port 6390] [--no-tick] [--workers N] [--handler PATH]
 */
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { devBanner } from "./banner.ts";
import { startDevStack } from "./dev-stack.ts";

/** The example handler the stage defaults use too (worker/handler.ts). */
const DEFAULT_HANDLER = "worker/handler.ts";
/** One worker, so jobs enqueued locally run as they would deployed (`--workers 0` for none). */
const DEFAULT_WORKERS = 1;

function port(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) {
    console.error(`${flag} must be a port number (1-65535), got "${value}"`);
    process.exit(2);
  }
  return n;
}

export const DEV_USAGE = `usage: npm run dev -- [--port N] [--redis-port N] [--no-tick] [--workers N] [--handler PATH]
  --workers N      start N worker processes (default ${DEFAULT_WORKERS}; 0 for none) running --handler
  --handler PATH   the job handler module for --workers (default ${DEFAULT_HANDLER}, an example)`;

/** Runs the local stack until SIGINT/SIGTERM; `argv` are the options after `dev`. */
export async function runDev(argv: string[]): Promise<void> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      options: {
        port: { type: "string" },
        "redis-port": { type: "string" },
        "no-tick": { type: "boolean" },
        workers: { type: "string" },
        handler: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    }).values;
  } catch (e) {
    console.error(`${e instanceof Error ? e.message : String(e)}\n${DEV_USAGE}`);
    process.exit(2);
  }
  if (args.help) {
    console.log(DEV_USAGE);
    return;
  }
  const workers = args.workers === undefined ? DEFAULT_WORKERS : Number(args.workers);
  if (!Number.isInteger(workers) || workers < 0 || workers > 16) {
    console.error(`--workers must be a whole number from 0 to 16, got "${args.workers}"`);
    process.exit(2);
  }
  const stack = await startDevStack({
    port: port(args.port, "--port") ?? 8787,
    redisPort: port(args["redis-port"], "--redis-port"),
    tick: !args["no-tick"],
    workers: workers > 0 ? { handler: args.handler ?? DEFAULT_HANDLER, count: workers } : null,
  }).catch((e: unknown) => {
    console.error(`workstream dev: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  });
  console.log(
    devBanner({
      apiUrl: stack.apiUrl,
      redisUrl: stack.redisUrl,
      upstashUrl: stack.upstashUrl,
      adminKey: stack.adminKey,
      maintenance: args["no-tick"] ? "off (--no-tick)" : "reclaim, promotion, expiry, DLQ sweep every 5 s (as the cron)",
      workers: stack.workerIds.length > 0
        ? `${stack.workerIds.join(", ")} running ${args.handler ?? DEFAULT_HANDLER} (autonomous jobs; --workers N to change)`
        : "none (--workers 0)",
    }),
  );
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping…`);
    stack.stop().then(
      () => process.exit(0),
      (e: unknown) => {
        console.error(e);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("SIGTERM", () => shutdown("SIGTERM"));
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await runDev(process.argv.slice(2));
