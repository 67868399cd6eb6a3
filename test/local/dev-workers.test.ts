/**
 * The local stack with worker processes (`npm run dev -- --workers N`, `npx workstream dev`): real
 * worker processes (the Fargate entry, through tsx) take the jobs enqueued over the local HTTP API,
 * decrypt sensitive fields with the stack's key, and stop with the stack.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDevStack, type DevStack } from "../../packages/local/src/dev-stack.ts";
import { runCli } from "../worker/support.ts";

let stack: DevStack;
const lines: string[] = [];

beforeAll(async () => {
  stack = await startDevStack({ tick: false, env: { WORKSTREAM_KEY_PREFIX: "devw:" }, workers: { handler: "worker/handler.ts", count: 2 }, workerLog: (l) => void lines.push(l) });
}, 60_000);
afterAll(async () => {
  await stack?.stop();
});

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${stack.apiUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${stack.adminKey}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: await res.json() };
}

describe("the local stack's workers", () => {
  it("run jobs enqueued over the HTTP API, with sensitive fields decrypted for the handler", async () => {
    expect(stack.workerIds).toEqual(["local-worker-1", "local-worker-2"]);
    const ids = ["d1", "d2", "d3", "d4"];
    for (const id of ids) {
      const r = await api("POST", "/v1/jobs", { id, type: "hello", payload: { n: id, secret: `s-${id}` }, sensitive: ["payload.secret"] });
      expect(r.status).toBe(201);
    }
    const done = async () => (await Promise.all(ids.map((id) => api("GET", `/v1/jobs/${id}`)))).map((r) => r.body);
    let jobs = await done();
    for (let i = 0; i < 100 && jobs.some((j) => j.status !== "completed"); i++) {
      await new Promise((r) => setTimeout(r, 100));
      jobs = await done();
    }
    for (const j of jobs) {
      expect(j.status).toBe("completed");
      expect(j.result.echo).toEqual({ n: j.id, secret: `s-${j.id}` }); // the handler saw the plaintext
      expect(["local-worker-1", "local-worker-2"]).toContain(j.result.handledBy);
    }
    expect(lines.some((l) => l.startsWith("[local-worker-1] ") && l.includes('"worker started"'))).toBe(true);
  }, 30_000);

  it("`workstream dev` answers --help and refuses a bad --workers with exit 2", async () => {
    const help = await runCli(["dev", "--help"], {});
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("--workers N");
    const bad = await runCli(["dev", "--workers", "lots"], {});
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--workers must be a whole number");
  }, 60_000);
});
