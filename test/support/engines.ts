/**
 * Builds engines for tests: one per transport (TCP and Upstash REST through the local stand-in),
 * each with a unique key prefix and an injected clock, against the run's private redis-server.
 */
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, inject } from "vitest";
import { Engine, tcpPort, upstashPort, type EngineSettingsInput, type RedisPort } from "../../packages/core/src/index.ts";

export const TRANSPORTS = ["tcp", "upstash"] as const;
export type Transport = (typeof TRANSPORTS)[number];

export const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);

export interface Clock {
  now: () => number;
  advance(ms: number): void;
  set(ms: number): void;
}

export function manualClock(start = T0): Clock {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms), set: (ms) => void (t = ms) };
}

const opened: RedisPort[] = [];
let raw: Redis | undefined;

/** A plain TCP client for inspecting Redis from tests. */
export function rawRedis(): Redis {
  raw ??= new Redis(inject("redisUrl"));
  return raw;
}

afterAll(async () => {
  await Promise.all(opened.splice(0).map((p) => p.close()));
  await raw?.quit();
  raw = undefined;
});

export function openPort(transport: Transport): RedisPort {
  const port = transport === "tcp" ? tcpPort(inject("redisUrl")) : upstashPort(inject("upstashUrl"), inject("upstashToken"));
  opened.push(port);
  return port;
}

export interface TestEngine {
  engine: Engine;
  clock: Clock;
  prefix: string;
  port: RedisPort;
  /** Sets the next values of random(); defaults to 0.5 (zero jitter) when the queue is empty. */
  randoms: number[];
}

export function makeEngine(transport: Transport, settings: EngineSettingsInput = {}, clock = manualClock()): TestEngine {
  const prefix = `t${randomUUID().slice(0, 8)}:`;
  const port = openPort(transport);
  const randoms: number[] = [];
  const engine = new Engine({
    redis: port,
    settings: { keyPrefix: prefix, ...settings },
    now: clock.now,
    random: () => randoms.shift() ?? 0.5,
  });
  return { engine, clock, prefix, port, randoms };
}

/** Everything stored under a prefix, as comparable data: used to prove an operation changed nothing. */
export async function snapshot(prefix: string): Promise<Record<string, unknown>> {
  const r = rawRedis();
  const keys = (await r.keys(`${prefix}*`)).sort();
  const out: Record<string, unknown> = {};
  for (const k of keys) {
    const type = await r.type(k);
    if (type === "hash") out[k] = await r.hgetall(k);
    else if (type === "zset") out[k] = await r.zrange(k, 0, -1, "WITHSCORES");
    else if (type === "stream") out[k] = { entries: await r.xrange(k, "-", "+"), groups: await r.xinfo("GROUPS", k).catch(() => null) };
    else if (type === "list") out[k] = await r.lrange(k, 0, -1);
    else out[k] = await r.get(k);
    out[`${k}#ttl`] = (await r.pttl(k)) > 0 ? "set" : "none";
  }
  return out;
}
