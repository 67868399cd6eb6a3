/**
 * The local stack with worker processes (`npm run dev -- --workers N`, `npx workstream dev`): real
 * worker processes (the Fargate entry, through tsx) take the jobs enqueued over the local HTTP API,
 * decrypt sensitive fields with the stack's key, and stop with the stack.
 */
import { spawn } from "node:child_process";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDevStack, type DevStack } from "../../packages/local/src/dev-stack.ts";
import { CLI_BIN, ROOT, runCli, within } from "../worker/support.ts";

/** A port nothing listens on right now (the OS picks it), for a child that needs a fixed one. */
async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

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

  it("`workstream dev` starts one worker by default, which runs a job, and stops everything on SIGINT", async () => {
    const [apiPort, redisPort] = [await freePort(), await freePort()];
    const child = spawn(process.execPath, [CLI_BIN, "dev", "--port", String(apiPort), "--redis-port", String(redisPort), "--no-tick"], {
      cwd: ROOT,
      env: { PATH: process.env["PATH"] ?? "", HOME: process.env["HOME"] ?? "/tmp" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout!.on("data", (c: Buffer) => (out += c.toString("utf8")));
    child.stderr!.on("data", (c: Buffer) => (out += c.toString("utf8")));
    const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
    try {
      await within((async () => { while (!out.includes("Ctrl-C to stop.")) await new Promise((r) => setTimeout(r, 100)); })(), 45_000, `dev banner: ${out}`);
      expect(out).toMatch(/workers\s+local-worker-1 running worker\/handler\.ts/);
      const key = /admin key\s+(ws_\S+)/.exec(out)![1]!;
      const api = `http://127.0.0.1:${apiPort}`;
      const headers = { authorization: `Bearer ${key}`, "content-type": "application/json" };
      expect((await fetch(`${api}/v1/jobs`, { method: "POST", headers, body: JSON.stringify({ id: "by-default", payload: { n: 1 } }) })).status).toBe(201);
      let status = "";
      for (let i = 0; i < 100 && status !== "completed"; i++) {
        await new Promise((r) => setTimeout(r, 100));
        status = ((await (await fetch(`${api}/v1/jobs/by-default`, { headers })).json()) as { status: string }).status;
      }
      expect(status).toBe("completed");
    } finally {
      child.kill("SIGINT");
      expect(await within(exited, 30_000, "dev stack stops on SIGINT")).toBe(0);
    }
    // everything it started is gone: the ports are free again
    for (const port of [apiPort, redisPort]) {
      const srv = net.createServer();
      await new Promise<void>((res, rej) => srv.once("error", rej).listen(port, "127.0.0.1", () => res()));
      await new Promise<void>((r) => srv.close(() => r()));
    }
  }, 90_000);

  it("`workstream dev` answers --help and refuses a bad --workers with exit 2", async () => {
    const help = await runCli(["dev", "--help"], {});
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("--workers N");
    const bad = await runCli(["dev", "--workers", "lots"], {});
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--workers must be a whole number");
  }, 60_000);
});
