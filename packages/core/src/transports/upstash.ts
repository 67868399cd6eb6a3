/**
 * HTTP transport (@upstash/redis): Lambda functions talking to Upstash's REST API. Non-blocking.
 * Automatic deserialization is off so values read back exactly as written (a stored "123" stays
 * a string); the engine parses every reply itself.
 */
import { Redis } from "@upstash/redis";
import type { RedisPort } from "./port.ts";

export interface UpstashPort extends RedisPort {
  readonly client: Redis;
}

export function upstashPort(url: string, token: string): UpstashPort {
  const client = new Redis({ url, token, automaticDeserialization: false, enableTelemetry: false });
  return {
    client,
    evalsha: (sha, keys, args) => client.evalsha(sha, [...keys], [...args]),
    eval: (source, keys, args) => client.eval(source, [...keys], [...args]),
    close: async () => {},
  };
}
