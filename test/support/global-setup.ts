import { randomBytes } from "node:crypto";
import type { TestProject } from "vitest/node";
import { startRedisServer, startUpstashRest } from "../../packages/local/src/index.ts";

/**
 * One private redis-server and one Upstash REST stand-in in front of it, shared by the whole
 * run: starting a server per file would dominate test time. Tests isolate by key prefix.
 */
export default async function setup({ provide }: TestProject): Promise<() => Promise<void>> {
  const redis = await startRedisServer();
  const token = `test-${randomBytes(12).toString("hex")}`;
  const rest = await startUpstashRest({ redisUrl: redis.url, token }).catch(async (err: unknown) => {
    await redis.stop();
    throw err;
  });
  provide("redisUrl", redis.url);
  provide("upstashUrl", rest.url);
  provide("upstashToken", rest.token);
  return async () => {
    await rest.close();
    await redis.stop();
  };
}
