// Local infrastructure owned by the project: a private redis-server and an Upstash REST stand-in.
export { freePort } from "./free-port.ts";
export { startRedisServer, type RedisServerHandle, type RedisServerOptions } from "./redis-server.ts";
export {
  startUpstashRest,
  MAX_BODY_BYTES,
  type UpstashRestHandle,
  type UpstashRestOptions,
  type UpstashRestPath,
  type UpstashRestStats,
} from "./upstash-rest.ts";
export { startHttpApi, toEventV2, type HttpApiHandle, type HttpApiOptions, type EventDispatcher } from "./http-server.ts";
