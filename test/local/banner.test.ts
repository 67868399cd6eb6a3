/**
 * The `npm run dev` banner's shell lines, pasted into bash against a real local stack: they must
 * work as printed (a worker key is created, a job enqueued and claimed, the CLI reaches Redis), and
 * the README's examples must use the same variables.
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { devBanner, devExports, devTryIt, type BannerInfo } from "../../packages/local/src/banner.ts";
import { startDevStack, type DevStack } from "../../packages/local/src/dev-stack.ts";

const repo = path.resolve(import.meta.dirname, "../..");
let stack: DevStack;
let info: BannerInfo;

beforeAll(async () => {
  // as `npm run dev` starts by default: one worker (autonomous jobs), which must not take the example's job
  stack = await startDevStack({ tick: false, workers: { handler: "worker/handler.ts", count: 1 }, workerLog: () => undefined });
  info = { apiUrl: stack.apiUrl, redisUrl: stack.redisUrl, upstashUrl: stack.upstashUrl, adminKey: stack.adminKey, maintenance: "off" };
});
afterAll(async () => {
  await stack?.stop();
});

describe("the dev banner", () => {
  it("prints the base URL, and export lines for API, KEY and WORKSTREAM_REDIS_URL", () => {
    const banner = devBanner(info);
    expect(stack.apiUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(banner).toContain(`  export API=${stack.apiUrl}\n`);
    expect(banner).toContain(`  export KEY='${stack.adminKey}'\n`);
    expect(banner).toContain(`  export WORKSTREAM_REDIS_URL=${stack.redisUrl}\n`);
    expect(banner).not.toMatch(/export API=\S*\/v1/);
    for (const line of [...devExports(info), ...devTryIt()]) expect(banner).toContain(`  ${line}`);
  });

  it("has lines that work when pasted into a shell", async () => {
    const script = ["set -euo pipefail", ...devExports(info), ...devTryIt()].join("\n");
    const { stdout } = await promisify(execFile)("bash", ["-c", script], {
      cwd: repo,
      env: { PATH: process.env["PATH"] ?? "", HOME: process.env["HOME"] ?? "/tmp" },
      timeout: 30_000,
    });
    const [enqueued, claimed] = stdout.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
    expect(enqueued).toMatchObject({ queue: "default", status: "pending" });
    expect(claimed).toMatchObject({ status: "claimed", job: { id: enqueued.id, permissionLevel: "supervised", payload: { name: "world", api_token: "s3cret" } } });
    expect(stdout).toContain("default"); // `workstream stats` reached Redis and listed the queues
  }, 40_000);

  it("uses the variables the README's examples use", () => {
    const readme = fs.readFileSync(path.join(repo, "README.md"), "utf8");
    for (const v of ["export API=http://127.0.0.1:8787", "export KEY=", "export WORKSTREAM_REDIS_URL=", "export WORKER_KEY="]) expect(readme).toContain(v);
  });
});
