/**
 * `npm run dev`: the local stack on 127.0.0.1 — private redis-server, Upstash REST stand-in, the
 * HTTP API (the same Lambda handlers, through @upstash/redis), the maintenance tick — and
 * ready-to-paste `export` lines and examples (banner.ts). Ctrl-C stops everything it started.
 *
 *   npm run dev -- [--port 8787] [--redis-port 6390] [--no-tick]
 */
import { parseArgs } from "node:util";
import { devBanner } from "./banner.ts";
import { startDevStack } from "./dev-stack.ts";

function port(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) {
    console.error(`${flag} must be a port number (1-65535), got "${value}"`);
    process.exit(2);
  }
  return n;
}

async function main(): Promise<void> {
  let args;
  try {
    args = parseArgs({
      options: { port: { type: "string" }, "redis-port": { type: "string" }, "no-tick": { type: "boolean" }, help: { type: "boolean", short: "h" } },
      strict: true,
    }).values;
  } catch (e) {
    console.error(`${e instanceof Error ? e.message : String(e)}\nusage: npm run dev -- [--port N] [--redis-port N] [--no-tick]`);
    process.exit(2);
  }
  if (args.help) {
    console.log("usage: npm run dev -- [--port N] [--redis-port N] [--no-tick]");
    return;
  }
  const stack = await startDevStack({
    port: port(args.port, "--port") ?? 8787,
    redisPort: port(args["redis-port"], "--redis-port"),
    tick: !args["no-tick"],
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

void main();
