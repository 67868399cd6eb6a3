/**
 * Every credential the app uses, as `sst.Secret`s set per stage with `npx sst secret set NAME VALUE`.
 * Code reads them through `Resource.<Name>.value` (from "sst"), never through raw env-var names.
 * Each consumer links only what it needs: the link list is the function's access list.
 */
export const upstashRedisUrl = new sst.Secret("UpstashRedisUrl");
export const upstashRedisToken = new sst.Secret("UpstashRedisToken");
/** `rediss://default:PASSWORD@HOST:6379`: TCP for the Fargate workers' blocking reads. */
export const upstashRedisTcpUrl = new sst.Secret("UpstashRedisTcpUrl");
export const qstashToken = new sst.Secret("QStashToken");
export const qstashCurrentSigningKey = new sst.Secret("QStashCurrentSigningKey");
export const qstashNextSigningKey = new sst.Secret("QStashNextSigningKey");
/** Seeds the first admin API key; afterwards keys are managed through the API. */
export const adminBootstrapKey = new sst.Secret("AdminBootstrapKey");
/** AES-256-GCM key for payload fields marked sensitive. */
/** Keyring for sensitive payload fields: `kid:base64(32 bytes)[,kid:base64…]`, the first one encrypts. */
export const payloadEncryptionKey = new sst.Secret("PayloadEncryptionKey");

/** Scheduled functions: Redis over REST, QStash (alert webhooks), payload key; no admin bootstrap. */
export const cronLink = [
  upstashRedisUrl,
  upstashRedisToken,
  qstashToken,
  qstashCurrentSigningKey,
  qstashNextSigningKey,
  payloadEncryptionKey,
];

/** API functions: everything the crons have, plus the admin bootstrap key. */
export const apiLink = [...cronLink, adminBootstrapKey];

/** Fargate workers talk TCP to Redis, publish callbacks through QStash and decrypt payloads. */
export const workerLink = [upstashRedisTcpUrl, qstashToken, payloadEncryptionKey];
