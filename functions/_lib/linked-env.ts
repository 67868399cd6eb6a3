/**
 * The functions' environment: process.env plus the SST secrets linked to the function, read through
 * `Resource.<Name>.value` and exposed under the variable names core's config parsers read. An
 * explicitly set variable wins (tests, the local stack). A secret not linked to this function
 * (the crons get no admin key) simply stays unset.
 */
import { Resource } from "sst/resource";

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

/** A linked secret's value, or undefined when SST links are not active (tests, local stack). */
function linked(name: string): string | undefined {
  try {
    if (!(name in Resource)) return undefined;
    const value = (Resource as unknown as Record<string, { value?: unknown } | undefined>)[name]?.value;
    return typeof value === "string" && value !== "" ? value : undefined;
  } catch {
    return undefined;
  }
}

export function linkedEnv(processEnv: Record<string, string | undefined> = process.env): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...processEnv };
  for (const [variable, secret] of Object.entries(FROM_RESOURCE)) {
    if (!env[variable]) env[variable] = linked(secret);
  }
  return env;
}
