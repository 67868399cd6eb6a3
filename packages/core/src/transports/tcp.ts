/**
 * TCP transport (ioredis): workers on Fargate and local runs. Supports blocking reads.
 */
import { Redis, type RedisOptions } from "ioredis";
import { RedisUnavailableError } from "../errors.ts";
import type { BlockingRedisPort } from "./port.ts";

/** scheme://host:port of a Redis URL, for messages: never the password. */
export function redisAddress(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}`;
  } catch {
    return "(unparsable Redis URL)";
  }
}

export interface TcpPort extends BlockingRedisPort {
  /** The underlying client, for tests and tools that need raw commands. */
  readonly client: Redis;
}

export function tcpPort(url: string, options: RedisOptions = {}): TcpPort {
  // A separate connection for blocking waits: a blocked connection cannot serve script calls.
  const client = new Redis(url, { maxRetriesPerRequest: 20, enableAutoPipelining: true, ...options });
  // Commands reject with their own errors; listening here keeps ioredis from printing every failed
  // reconnect as "Unhandled error event" with a stack, and remembers why each connection is down.
  const lastErrors = new WeakMap<Redis, string>();
  const remember = (conn: Redis) => conn.on("error", (e: Error) => void lastErrors.set(conn, e.message));
  remember(client);
  // ioredis gives up on a command with "max retries per request"; say where and why instead.
  const explained =
    (conn: Redis) =>
    (e: unknown): never => {
      if (e instanceof Error && e.name === "MaxRetriesPerRequestError") throw new RedisUnavailableError(redisAddress(url), lastErrors.get(conn) ?? e.message);
      throw e;
    };
  const onClient = explained(client);
  let blocking: Redis | undefined;
  return {
    client,
    evalsha: (sha, keys, args) => client.evalsha(sha, keys.length, ...keys, ...args).catch(onClient),
    eval: (source, keys, args) => client.eval(source, keys.length, ...keys, ...args).catch(onClient),
    async waitForEntries(streams, timeoutMs) {
      const conn = (blocking ??= remember(client.duplicate()));
      const ids = streams.map((s) => s.afterId);
      const keys = streams.map((s) => s.key);
      const res = await conn.xread("COUNT", 1, "BLOCK", Math.max(1, Math.floor(timeoutMs)), "STREAMS", ...keys, ...ids).catch(explained(conn));
      return res === null ? [] : res.map(([key]) => key);
    },
    async waitForList(key, timeoutMs) {
      // Its own connection: several jobs of one worker may wait at once, and a blocked
      // connection serves nobody else.
      const conn = remember(client.duplicate());
      try {
        return (await conn.blpop(key, Math.max(0.01, timeoutMs / 1000)).catch(explained(conn))) !== null;
      } finally {
        conn.disconnect();
      }
    },
    async close() {
      // The blocking connection may sit in an XREAD/BLPOP for up to 30 s; QUIT would queue behind it.
      blocking?.disconnect();
      await client.quit().catch(() => undefined);
    },
  };
}
