/**
 * The worker image without Docker (none here): the Dockerfile's handler build is held to
 * `npm run build:worker`'s flags, then both bundles are built the way the image builds them and run
 * from a directory with no node_modules — as in the runtime stage, which holds only /app/dist —
 * against the test redis-server: the example handler completes a job, dead-letters one, and the
 * worker exits 0 on SIGTERM.
 */
import { execFile, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { IMAGE_HANDLER_PATH, settingsFor } from "../../infra/settings.ts";
import { Engine, silentLogger, tcpPort, type JobContext } from "../../packages/core/src/index.ts";
import exampleHandler from "../../worker/handler.ts";

const repo = path.resolve(import.meta.dirname, "../..");
const dockerfile = fs.readFileSync(path.join(repo, "Dockerfile"), "utf8");
const buildWorker = (JSON.parse(fs.readFileSync(path.join(repo, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts["build:worker"]!;

/** `--flag`, `--flag=value` and `--flag="quoted value"` of a command line, quotes removed. */
const flags = (command: string) => [...command.matchAll(/--[\w:-]+(?:="[^"]*"|=\S+)?/g)].map((m) => m[0].replace(/="(.*)"$/, "=$1"));
const withoutOutfile = (f: string[]) => f.filter((x) => !x.startsWith("--outfile="));

/** The Dockerfile's RUN instruction that bundles the handler, continuation lines joined. */
const handlerRun = (() => {
  const m = /^RUN if \[ -n "\$HANDLER" \]; then[\s\S]*?\bfi\s*$/m.exec(dockerfile);
  if (!m) throw new Error("Dockerfile: no `RUN if [ -n \"$HANDLER\" ]; then … fi` step");
  return m[0].replace(/\\\n/g, " ");
})();

describe("the Dockerfile", () => {
  it("bundles the handler named by the HANDLER build arg like build:worker bundles the worker", () => {
    expect(handlerRun).toContain('node_modules/.bin/esbuild "$HANDLER"');
    expect(handlerRun).toContain("--outfile=dist/handler.mjs");
    expect(withoutOutfile(flags(handlerRun)).sort()).toEqual(withoutOutfile(flags(buildWorker)).sort());
    // The banner: without it ioredis fails to load ("Dynamic require of events is not supported").
    expect(flags(handlerRun)).toContain("--banner:js=import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);");
  });

  it("points WORKSTREAM_HANDLER at the bundle only when HANDLER is set, and ships dist/", () => {
    const [, build, runtime] = dockerfile.split(/^FROM /m);
    expect(build).toMatch(/^ARG HANDLER=$/m);
    expect(runtime).toMatch(/^ARG HANDLER=$/m);
    expect(runtime).toContain(`ENV WORKSTREAM_HANDLER=\${HANDLER:+${IMAGE_HANDLER_PATH}}`);
    expect(runtime).toContain("COPY --from=build --chown=node:node /app/dist/ /app/dist/");
    expect(IMAGE_HANDLER_PATH).toBe("/app/dist/handler.mjs");
  });
});

describe("the example handler (worker/handler.ts)", () => {
  const ctx = { attempt: 1, maxAttempts: 4, workerId: "w-1", logger: silentLogger } as unknown as JobContext;
  const job = (type: string) => ({ id: "j1", queue: "default", type, priority: "normal", permissionLevel: "autonomous", payload: { n: 1 }, attempt: 1, maxAttempts: 4, timeoutMs: 1000, createdAt: "", lastError: null }) as const;

  it("echoes the payload, and dead-letters example.fail jobs", async () => {
    await expect(exampleHandler(job("hello"), ctx)).resolves.toEqual({ echo: { n: 1 }, type: "hello", handledBy: "w-1", attempt: 1 });
    await expect(exampleHandler(job("example.fail"), ctx)).rejects.toMatchObject({ name: "NonRetryableError" });
  });
});

describe("the image's bundles, run from a directory with no node_modules", () => {
  const handler = settingsFor("dev").worker.handler!;
  let app: string;
  beforeAll(async () => {
    app = fs.mkdtempSync(path.join(os.tmpdir(), "ws-image-"));
    const esbuild = path.join(repo, "node_modules/.bin/esbuild");
    const run = (entry: string, command: string, out: string) =>
      promisify(execFile)(esbuild, [entry, ...withoutOutfile(flags(command)), `--outfile=${path.join(app, "dist", out)}`, "--log-level=error"], { cwd: repo });
    await Promise.all([run("packages/worker/src/main.ts", buildWorker, "worker.mjs"), run(handler, handlerRun, "handler.mjs")]);
  }, 60_000);
  afterAll(() => fs.rmSync(app, { recursive: true, force: true }));

  it("needs the banner: without it the handler bundle fails to load", async () => {
    // Control for the test below: @workstream/core pulls in ioredis, whose CommonJS `require`s an
    // ESM bundle can only serve through the banner's createRequire.
    const esbuild = path.join(repo, "node_modules/.bin/esbuild");
    const bare = withoutOutfile(flags(handlerRun)).filter((f) => !f.startsWith("--banner:"));
    await promisify(execFile)(esbuild, [handler, ...bare, `--outfile=${path.join(app, "bare.mjs")}`, "--log-level=error"], { cwd: repo });
    fs.writeFileSync(path.join(app, "load.mjs"), 'const m = await import(process.argv[2]); console.log(typeof (m.default ?? m.handler));\n');
    const load = (file: string) => promisify(execFile)(process.execPath, ["load.mjs", file], { cwd: app, env: { PATH: process.env["PATH"] ?? "" } });
    await expect(load("./bare.mjs")).rejects.toThrow(/Dynamic require of "events" is not supported/);
    expect((await load("./dist/handler.mjs")).stdout.trim()).toBe("function");
  });

  it("worker.mjs answers --help", async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ["dist/worker.mjs", "--help"], { cwd: app, env: { PATH: process.env["PATH"] ?? "" } });
    expect(stdout).toContain("usage: workstream worker");
  });

  it("the example handler runs jobs in the worker, and SIGTERM stops it cleanly", async () => {
    const prefix = `img${randomUUID().slice(0, 8)}:`;
    const port = tcpPort(inject("redisUrl"));
    const engine = new Engine({ redis: port, settings: { keyPrefix: prefix } });
    const child = spawn(process.execPath, ["dist/worker.mjs"], {
      cwd: app,
      env: {
        PATH: process.env["PATH"] ?? "",
        WORKSTREAM_REDIS_URL: inject("redisUrl"),
        WORKSTREAM_KEY_PREFIX: prefix,
        WORKSTREAM_HANDLER: path.join(app, "dist/handler.mjs"),
        WORKSTREAM_NOTIFY_MODE: "off",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (c: Buffer) => (output += c.toString()));
    child.stderr.on("data", (c: Buffer) => (output += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      const ok = await engine.enqueue({ type: "hello", payload: { name: "world" } });
      const bad = await engine.enqueue({ type: "example.fail", payload: {} });
      const settled = async (id: string, status: string) => {
        for (let i = 0; i < 200; i++) {
          const job = await engine.getJob(id);
          if (job.status === status) return job;
          await new Promise((r) => setTimeout(r, 50));
        }
        throw new Error(`job ${id} never became ${status}; worker output:\n${output}`);
      };
      expect((await settled(ok.id, "completed")).result).toMatchObject({ echo: { name: "world" }, type: "hello", attempt: 1 });
      expect((await settled(bad.id, "failed")).error).toMatchObject({ name: "NonRetryableError" });
      child.kill("SIGTERM");
      expect(await exited, output).toBe(0);
    } finally {
      child.kill("SIGKILL");
      await port.close();
    }
  }, 30_000);
});
