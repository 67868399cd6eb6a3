/**
 * A local stand-in for the Upstash Redis REST API, in front of a real redis-server.
 *
 * It speaks exactly what `@upstash/redis` 1.39 sends and expects, so the real client runs
 * unmodified in tests and in the local stack:
 *
 *   POST /            body: ["SET","k","v"]                  -> {result} | 400 {error}
 *   POST /pipeline    body: [["SET","k","v"],["GET","k"]]    -> [{result}|{error}, ...]
 *   POST /multi-exec  body: same, run as one MULTI/EXEC      -> [{result}|{error}, ...] | 400 {error}
 *   Authorization: Bearer <token>                            (else 401 {error:"Unauthorized"})
 *   Upstash-Encoding: base64 -> every string in a reply is base64 of its raw bytes, except a
 *   top-level "OK"; integers stay numbers, nil is null, arrays recurse (RESP2 shapes).
 *
 * Like Upstash it refuses blocking and connection-state commands, caps bodies at 10 MB and
 * counts every command it executes (our cost figure: Upstash bills per command).
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Redis, ReplyError } from "ioredis";

export interface UpstashRestOptions {
  /** The redis-server to forward to, e.g. `redis://127.0.0.1:6379`. */
  redisUrl: string;
  /** Bearer token clients must present. */
  token: string;
  /** Port on 127.0.0.1. Default: a free port chosen by the OS. */
  port?: number;
  /** Only loopback: this is a test/dev tool with a toy token, never a public endpoint. */
  host?: "127.0.0.1";
}

export type UpstashRestPath = "/" | "/pipeline" | "/multi-exec";

export interface UpstashRestStats {
  /** Commands sent to Redis (each command inside a pipeline or transaction counts once). */
  commands: number;
  /** HTTP requests received per endpoint (HTTP round trips), whatever their outcome. */
  requests: Record<UpstashRestPath, number>;
}

export interface UpstashRestHandle {
  /** Base URL for `new Redis({ url, token })`, e.g. `http://127.0.0.1:41234`. */
  url: string;
  token: string;
  /** Live counters; mutate-in-place so benchmarks can diff them. */
  stats: UpstashRestStats;
  close(): Promise<void>;
}

/** Upstash's request size limit on the common plans. */
export const MAX_BODY_BYTES = 10 * 1024 * 1024;
const CONNECT_TIMEOUT_MS = 10_000;

type Command = [name: string, ...args: string[]];
type Reply = { result: unknown } | { error: string };

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

// Upstash REST has no blocking commands; the rest would change the state of our one shared
// connection (subscriber mode, RESP3, another db, a dangling MULTI) and break every later request.
const BLOCKING = new Set(["BLPOP", "BRPOP", "BRPOPLPUSH", "BLMOVE", "BLMPOP", "BZPOPMIN", "BZPOPMAX", "BZMPOP", "WAIT"]);
const CONNECTION_STATE = new Set([
  "SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE", "UNSUBSCRIBE", "PUNSUBSCRIBE", "SUNSUBSCRIBE",
  "MONITOR", "WATCH", "UNWATCH", "MULTI", "EXEC", "DISCARD", "SELECT", "QUIT", "RESET", "HELLO",
  "SYNC", "PSYNC", "CLIENT",
]);

/** Why Upstash would refuse this command, or null if it may run. */
function rejectionFor([name, ...args]: Command): string | null {
  if (BLOCKING.has(name)) return `ERR blocking command ${name} is not supported over the REST API`;
  if ((name === "XREAD" || name === "XREADGROUP") && hasBlockOption(name, args)) {
    return `ERR ${name} with BLOCK is not supported over the REST API`;
  }
  if (CONNECTION_STATE.has(name)) return `ERR command ${name} is not supported over the REST API`;
  return null;
}

/** Walks XREAD/XREADGROUP options up to STREAMS, so a group or consumer named "block" is not mistaken for the option. */
function hasBlockOption(name: string, args: string[]): boolean {
  let i = name === "XREADGROUP" && args[0]?.toUpperCase() === "GROUP" ? 3 : 0;
  while (i < args.length) {
    const token = args[i]!.toUpperCase();
    if (token === "STREAMS") return false;
    if (token === "BLOCK") return true;
    i += token === "COUNT" ? 2 : 1;
  }
  return false;
}

/** Validates one JSON command; the client sends strings, numbers and booleans only. */
function toCommand(value: unknown): Command {
  if (!Array.isArray(value) || value.length === 0 || typeof value[0] !== "string" || value[0] === "") {
    throw new HttpError(400, "ERR invalid command: expected a non-empty JSON array starting with the command name");
  }
  const args = value.slice(1).map((arg: unknown, i) => {
    if (typeof arg === "string") return arg;
    if (typeof arg === "number" || typeof arg === "boolean") return String(arg);
    throw new HttpError(400, `ERR invalid argument ${i + 1} of ${value[0]}: expected a string, number or boolean`);
  });
  return [value[0].toUpperCase(), ...args];
}

function toCommandList(value: unknown): Command[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new HttpError(400, "ERR invalid request: expected a non-empty JSON array of commands");
  }
  return value.map(toCommand);
}

/** Encodes a RESP2 reply (raw Buffers from callBuffer) the way Upstash does. */
function encode(value: unknown, base64: boolean, top: boolean): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === "number") return value;
  if (Array.isArray(value)) return value.map((item) => encode(item, base64, false));
  // Error replies nested in arrays (e.g. from a script) travel as their message.
  const bytes = Buffer.isBuffer(value)
    ? value
    : Buffer.from(value instanceof Error ? value.message : String(value), "utf8");
  if (!base64) return bytes.toString("utf8");
  // The client special-cases a top-level "OK" (status reply) and base64-decodes everything else.
  if (top && bytes.length === 2 && bytes.toString("latin1") === "OK") return "OK";
  return bytes.toString("base64");
}

/** Reads the body without ever holding more than the limit; an oversized body is drained, then refused. */
async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = Number(req.headers["content-length"] ?? 0) > MAX_BODY_BYTES;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) tooLarge = true;
    if (!tooLarge) chunks.push(chunk);
  }
  if (tooLarge) throw new HttpError(400, `ERR max request size exceeded: limit is ${MAX_BODY_BYTES} bytes`);
  return Buffer.concat(chunks).toString("utf8");
}

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch (err) {
    throw new HttpError(400, `ERR failed to parse request body as JSON: ${(err as Error).message}`);
  }
}

const errorMessage = (err: unknown) => (err instanceof Error ? err.message : String(err));
const isRedisError = (err: unknown) => err instanceof ReplyError;

/**
 * Starts the stand-in on 127.0.0.1 and connects it to `redisUrl`.
 *
 * @example
 * const rest = await startUpstashRest({ redisUrl: server.url, token: "local-token" });
 * const client = new Redis({ url: rest.url, token: rest.token, automaticDeserialization: false });
 * await client.set("k", "v");
 * rest.stats.commands; // 1
 * await rest.close();
 */
export async function startUpstashRest(opts: UpstashRestOptions): Promise<UpstashRestHandle> {
  const host = opts.host ?? "127.0.0.1";
  // One connection: ioredis writes a pipeline or MULTI..EXEC block in one go, so concurrent
  // requests cannot interleave inside each other. The offline queue rides out a redis restart.
  const redis = new Redis(opts.redisUrl, {
    lazyConnect: true,
    maxRetriesPerRequest: 2,
    enableOfflineQueue: true,
    connectTimeout: CONNECT_TIMEOUT_MS,
    connectionName: "workstream-upstash-rest",
  });
  redis.on("error", () => {
    // Reconnects are ioredis's job; a failing request reports its own error to the client.
  });
  try {
    await redis.connect();
  } catch (err) {
    redis.disconnect();
    throw new Error(`upstash-rest: cannot connect to ${opts.redisUrl}: ${errorMessage(err)}`);
  }

  const stats: UpstashRestStats = { commands: 0, requests: { "/": 0, "/pipeline": 0, "/multi-exec": 0 } };
  let syncToken = 0;

  // Upper-case names on purpose: ioredis reshapes some replies by lower-case name (hgetall -> object).
  const runOne = async (cmd: Command, base64: boolean): Promise<unknown> => {
    stats.commands++;
    return encode(await redis.callBuffer(...cmd), base64, true);
  };

  const runPipeline = async (cmds: Command[], base64: boolean): Promise<Reply[]> => {
    const replies: (Reply | undefined)[] = cmds.map((cmd) => {
      const reason = rejectionFor(cmd);
      return reason === null ? undefined : { error: reason };
    });
    const pipeline = redis.pipeline();
    const sent: number[] = [];
    cmds.forEach((cmd, i) => {
      if (replies[i] !== undefined) return;
      pipeline.callBuffer(...cmd);
      sent.push(i);
    });
    stats.commands += sent.length;
    const results = sent.length > 0 ? ((await pipeline.exec()) ?? []) : [];
    sent.forEach((cmdIndex, k) => {
      const [err, value] = results[k] ?? [new Error("ERR no reply from redis"), null];
      replies[cmdIndex] = err ? { error: err.message } : { result: encode(value, base64, true) };
    });
    return replies.map((r) => r ?? { error: "ERR internal: missing reply" });
  };

  const runTransaction = async (cmds: Command[], base64: boolean): Promise<Reply[]> => {
    // A refused command discards the whole transaction, before anything reaches Redis.
    for (const cmd of cmds) {
      const reason = rejectionFor(cmd);
      if (reason !== null) throw new HttpError(400, reason);
    }
    const multi = redis.multi();
    for (const cmd of cmds) multi.callBuffer(...cmd);
    stats.commands += cmds.length;
    const results = await multi.exec(); // rejects with EXECABORT if Redis refused a command while queueing
    if (results === null) throw new HttpError(400, "ERR transaction aborted");
    return results.map(([err, value]) => (err ? { error: err.message } : { result: encode(value, base64, true) }));
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const reply = (status: number, body: unknown) => {
      // Incrementing sync token: the client echoes it back for read-your-writes; one server, so always consistent.
      res.writeHead(status, { "content-type": "application/json", "upstash-sync-token": String(++syncToken) });
      res.end(JSON.stringify(body));
    };
    try {
      const pathname = new URL(req.url ?? "/", "http://localhost").pathname.replace(/(.)\/+$/, "$1");
      if (pathname !== "/" && pathname !== "/pipeline" && pathname !== "/multi-exec") {
        req.resume();
        return reply(404, { error: `ERR unknown endpoint ${pathname}` });
      }
      stats.requests[pathname]++;
      if (req.method !== "POST") {
        req.resume();
        return reply(405, { error: `ERR method ${req.method} not allowed, use POST` });
      }
      if (req.headers.authorization !== `Bearer ${opts.token}`) {
        req.resume();
        return reply(401, { error: "Unauthorized" });
      }
      const base64 = String(req.headers["upstash-encoding"] ?? "").toLowerCase() === "base64";
      const body = parseJson(await readBody(req));

      if (pathname === "/pipeline") return reply(200, await runPipeline(toCommandList(body), base64));
      if (pathname === "/multi-exec") return reply(200, await runTransaction(toCommandList(body), base64));
      const cmd = toCommand(body);
      const reason = rejectionFor(cmd);
      if (reason !== null) return reply(400, { error: reason });
      return reply(200, { result: await runOne(cmd, base64) });
    } catch (err) {
      if (err instanceof HttpError) return reply(err.status, { error: err.message });
      // A Redis error reply is the caller's mistake (400, as Upstash); anything else is ours or Redis being down.
      return reply(isRedisError(err) ? 400 : 500, { error: errorMessage(err) });
    }
  };

  const server = http.createServer((req, res) => {
    void handle(req, res).catch(() => res.destroy());
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(opts.port ?? 0, host, () => resolve());
    });
  } catch (err) {
    redis.disconnect();
    throw err;
  }
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://${host}:${port}`,
    token: opts.token,
    stats,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      // QUIT waits for Redis; if it is gone, drop the socket instead of hanging.
      const quit = redis.quit().then(() => true, () => false);
      const quitInTime = await Promise.race([quit, new Promise<boolean>((r) => setTimeout(() => r(false), 2_000).unref())]);
      if (!quitInTime) redis.disconnect();
    },
  };
}
