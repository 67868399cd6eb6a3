/**
 * The functions' environment: process.env plus the SST secrets linked to the function (see
 * packages/core/src/linked-env.ts), under the variable names core's config parsers read.
 */
import { linkedEnv as withLinked } from "../../packages/core/src/linked-env.ts";

/** Environment variable ← the SST secret it falls back to (names from infra/secrets.ts). */
const FROM_RESOURCE: Readonly<Record<string, string>> = {
  UPSTASH_REDIS_REST_URL: "UpstashRedisUrl",
  UPSTASH_REDIS_REST_TOKEN: "UpstashRedisToken",
  WORKSTREAM_ADMIN_KEY: "AdminBootstrapKey",
  WORKSTREAM_ENCRYPTION_KEYS: "PayloadEncryptionKey",
  QSTASH_TOKEN: "QStashToken",
  QSTASH_CURRENT_SIGNING_KEY: "QStashCurrentSigningKey",
  QSTASH_NEXT_SIGNING_KEY: "QStashNextSigningKey",
};

export function linkedEnv(processEnv: Record<string, string | undefined> = process.env): Record<string, string | undefined> {
  return withLinked(FROM_RESOURCE, processEnv);
}
