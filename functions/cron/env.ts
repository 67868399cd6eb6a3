/**
 * The scheduled functions' environment: process.env plus the SST secrets linked to the crons
 * (infra/secrets.ts `cronLink`), read through `Resource.<Name>.value` and exposed under the variable
 * names the core's config parsers read. An explicitly set environment variable wins (tests, local).
 */
import { Resource } from "sst/resource";

const FROM_RESOURCE: Readonly<Record<string, string>> = {
  UPSTASH_REDIS_REST_URL: "UpstashRedisUrl",
  UPSTASH_REDIS_REST_TOKEN: "UpstashRedisToken",
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

export function cronEnv(processEnv: Record<string, string | undefined> = process.env): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...processEnv };
  for (const [variable, secret] of Object.entries(FROM_RESOURCE)) {
    if (!env[variable]) env[variable] = linked(secret);
  }
  return env;
}
