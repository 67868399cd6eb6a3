/**
 * What `npm run dev` prints: where everything listens, then shell lines to paste — the same
 * variables the README's examples use (`API`, `KEY`, `WORKER_KEY`, `WORKSTREAM_REDIS_URL`).
 * Pure, so test/local/banner.test.ts can run the printed lines against a real local stack.
 */

export interface BannerInfo {
  /** The API's base URL, without /v1 (routes add it). */
  apiUrl: string;
  redisUrl: string;
  upstashUrl: string;
  adminKey: string;
  /** One line on the maintenance tick. */
  maintenance: string;
  /** One line on the worker processes (default: none). */
  workers?: string;
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** The variables the examples need, as `export` lines. */
export function devExports(i: BannerInfo): string[] {
  return [`export API=${i.apiUrl}`, `export KEY=${quote(i.adminKey)}`, `export WORKSTREAM_REDIS_URL=${i.redisUrl}`];
}

/**
 * A first session over the exported variables: a worker key, a job in, the job claimed, stats. The
 * job is `supervised`: the stack's own workers take `autonomous` jobs only, so it waits for this key.
 */
export function devTryIt(): string[] {
  return [
    "# claiming needs a key with the worker role (the admin key may not claim): create one for supervised jobs",
    `export WORKER_KEY=$(curl -s -X POST "$API/v1/keys" -H "authorization: Bearer $KEY" -H 'content-type: application/json' \\`,
    `  -d '{"principal":"local-worker","roles":["worker"],"permissionLevels":["supervised"]}' | node -pe 'JSON.parse(require("fs").readFileSync(0, "utf8")).key')`,
    "# a supervised job: the stack's workers take autonomous ones only, so this one waits for your claim",
    `curl -s -X POST "$API/v1/jobs" -H "authorization: Bearer $KEY" -H 'content-type: application/json' \\`,
    `  -d '{"type":"hello","permissionLevel":"supervised","payload":{"name":"world","api_token":"s3cret"},"sensitive":["payload.api_token"]}'; echo`,
    `curl -s -X POST "$API/v1/claim" -H "authorization: Bearer $WORKER_KEY" -H 'content-type: application/json' -d '{}'; echo`,
    "npx workstream stats   # the CLI and the SDK use WORKSTREAM_REDIS_URL",
  ];
}

export function devBanner(i: BannerInfo): string {
  const indent = (lines: string[]) => lines.map((l) => `  ${l}`).join("\n");
  return `
Workstream local stack
  HTTP API        ${i.apiUrl}   (routes under /v1; OpenAPI: ${i.apiUrl}/v1/openapi.json)
  dashboard       ${i.apiUrl}/dashboard   (sign in with the admin key below)
  redis-server    ${i.redisUrl}
  Upstash REST    ${i.upstashUrl}
  maintenance     ${i.maintenance}
  workers         ${i.workers ?? "none"}
  admin key       ${i.adminKey}   (new each run; set WORKSTREAM_ADMIN_KEY to keep one)

In another shell, from this directory:
${indent(devExports(i))}

Try it (the README's examples use the same variables):
${indent(devTryIt())}

Ctrl-C to stop.`;
}
