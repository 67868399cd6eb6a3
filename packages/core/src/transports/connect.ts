import type { RedisConnection } from "../config.ts";
import type { RedisPort } from "./port.ts";
import { tcpPort } from "./tcp.ts";
import { upstashPort } from "./upstash.ts";

/** Opens the transport a configuration names. */
export function connect(connection: RedisConnection): RedisPort {
  return connection.kind === "tcp" ? tcpPort(connection.url) : upstashPort(connection.url, connection.token);
}
