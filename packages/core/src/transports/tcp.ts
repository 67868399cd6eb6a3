/**
 * TCP transport (ioredis): workers on Fargate and local runs. Supports blocking reads.
 */
import { Redis, type RedisOptions } from "ioredis";
import type { BlockingRedisPort } from "./port.ts";

export interface TcpPort extends BlockingRedisPort {
  /** The underlying client, for tests and tools that need raw commands. */
  readonly client: Redis;
}

export function tcpPort(url: string, options: RedisOptions = {}): TcpPort {
  // A separate connection for blocking waits: a blocked connection cannot serve script calls.
  const client = new Redis(url, { maxRetriesPerRequest: 20, enableAutoPipelining: true, ...options });
  let blocking: Redis | undefined;
  return {
    client,
    evalsha: (sha, keys, args) => client.evalsha(sha, keys.length, ...keys, ...args),
    eval: (source, keys, args) => client.eval(source, keys.length, ...keys, ...args),
    async waitForEntries(streams, timeoutMs) {
      blocking ??= client.duplicate();
      const ids = streams.map((s) => s.afterId);
      const keys = streams.map((s) => s.key);
      const res = await blocking.xread("COUNT", 1, "BLOCK", Math.max(1, Math.floor(timeoutMs)), "STREAMS", ...keys, ...ids);
      return res === null ? [] : res.map(([key]) => key);
    },
    async waitForList(key, timeoutMs) {
      // Its own connection: several jobs of one worker may wait at once, and a blocked
      // connection serves nobody else.
      const conn = client.duplicate();
      try {
        return (await conn.blpop(key, Math.max(0.01, timeoutMs / 1000))) !== null;
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
