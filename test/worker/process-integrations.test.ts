/**
 * The worker process (packages/worker/src/main.ts through tsx, as the container runs it) and what
 * it is wired to besides the queue: the SST-linked secrets main.ts maps into its environment, the
 * job callbacks it sends itself right after acking (or leaves to maintenance when notifications
 * are off), and the decryption of payload fields enqueued as sensitive.
 *
 * Real redis-server (globalSetup), real child processes, a recording HTTP stub on 127.0.0.1.
 */
import { randomBytes, randomUUID } from "node:crypto";
import path from "node:path";
import { afterEach, describe, expect, inject, it } from "vitest";
import {
  createNotifyContext,
  Engine,
  looksSealed,
  memoryLogger,
  notifyConfigFromEnv,
  parseKeyring,
  runMaintenance,
  sealPaths,
  tcpPort,
  type EnqueueRequestInput,
  type Job,
  type Keyring,
  type TcpPort,
} from "../../packages/core/src/index.ts";
import { rawRedis } from "../support/engines.ts";
import { startHttpStub, type HttpStub, type RecordedRequest } from "../support/http-stub.ts";
import { ROOT, sleep, spawnWorker, waitFor, within, WORKER_MAIN, type WorkerProc } from "./support.ts";

const ECHO_HANDLER = path.join(ROOT, "test", "worker", "fixtures", "echo-handler.ts");

interface Ctx {
  engine: Engine;
  port: TcpPort;
  prefix: string;
  /** Worker environment: Redis URL, this test's key prefix, queue "default", side-effect prefix. */
  env: Record<string, string>;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function setup(): Ctx {
  const url = inject("redisUrl");
  const prefix = `t${randomUUID().slice(0, 8)}:`;
  const port = tcpPort(url);
  const engine = new Engine({ redis: port, settings: { keyPrefix: prefix } });
  cleanups.push(() => port.close());
  const env = { WORKSTREAM_REDIS_URL: url, WORKSTREAM_KEY_PREFIX: prefix, WORKSTREAM_QUEUES: "default", TEST_SIDE_PREFIX: `${prefix}side:` };
  return { engine, port, prefix, env };
}

function worker(env: Record<string, string>): WorkerProc {
  const w = spawnWorker(env);
  cleanups.push(() => w.kill("SIGKILL"));
  return w;
}

async function stub(reply?: Parameters<typeof startHttpStub>[0]): Promise<HttpStub> {
  const s = await startHttpStub(reply);
  cleanups.push(() => s.close());
  return s;
}

/** What SST puts in a container's environment for a linked `sst.Secret`. */
const sstSecret = (value: string) => JSON.stringify({ type: "sst.sst.Secret", value });
const SST_APP = JSON.stringify({ name: "workstream", stage: "test" });

const completed = (engine: Engine, id: string) =>
  waitFor(`${id} completed`, async () => {
    const j: Job = await engine.getJob(id);
    return j.status === "completed" ? j : null;
  }, { timeoutMs: 20_000 });

const posts = (s: HttpStub, p: string): RecordedRequest[] => s.requests.filter((r) => r.method === "POST" && r.path === p);

const newKeyring = (kid: string) => `${kid}:${randomBytes(32).toString("base64")}`;

/** An enqueue request with the given payload fields sealed, as the API seals a request's `sensitive` paths. */
const sealedRequest = (req: EnqueueRequestInput, paths: string[], ring: Keyring): EnqueueRequestInput =>
  sealPaths(req as Record<string, unknown>, paths, ring, ["payload"]) as EnqueueRequestInput;

it("the worker helper runs main.ts, the entry that maps SST links", () => {
  expect(WORKER_MAIN).toBe(path.join(ROOT, "packages", "worker", "src", "main.ts"));
});

describe("worker process: SST-linked secrets (main.ts)", () => {
  it("reads its Redis URL from the SST link when WORKSTREAM_REDIS_URL is unset", async () => {
    const { engine, env } = setup();
    const { WORKSTREAM_REDIS_URL: url, ...withoutUrl } = env;

    // Control: with neither the variable nor the link, the worker refuses to start.
    const bare = worker(withoutUrl);
    const bareExit = await within(bare.exited, 30_000, "worker without a Redis URL exits");
    expect(bareExit.code).toBe(2);
    expect(bare.stderr()).toContain("WORKSTREAM_REDIS_URL");

    // The echo handler: the default fixture opens its own side connection from process.env's
    // WORKSTREAM_REDIS_URL, which is exactly what is absent here (main.ts maps the link into the
    // env it hands runWorkerProcess, not into process.env).
    await engine.enqueue({ id: "linked", queue: "default", payload: { n: 1 } });
    const w = worker({ ...withoutUrl, WORKSTREAM_HANDLER: ECHO_HANDLER, SST_RESOURCE_App: SST_APP, SST_RESOURCE_UpstashRedisTcpUrl: sstSecret(url!) });
    await within(w.ready, 30_000, "worker start");
    const job = await completed(engine, "linked");
    expect(job.attempts).toBe(1);
    expect(job.result).toEqual({ payload: { n: 1 } });
  }, 60_000);

  it("an explicitly set WORKSTREAM_REDIS_URL wins over the SST link", async () => {
    const { engine, env } = setup();
    await engine.enqueue({ id: "explicit", queue: "default", payload: {} });
    // The link points where no Redis listens: if it won, the worker could not register (exit 1).
    const w = worker({ ...env, SST_RESOURCE_App: SST_APP, SST_RESOURCE_UpstashRedisTcpUrl: sstSecret("redis://127.0.0.1:1") });
    await within(w.ready, 30_000, "worker start");
    expect((await completed(engine, "explicit")).attempts).toBe(1);
  }, 60_000);

  it("takes QSTASH_TOKEN from the SST link: callbacks go through QStash with that token", async () => {
    const { engine, env } = setup();
    let n = 0;
    const qstash = await stub(() => ({ status: 201, body: JSON.stringify({ messageId: `msg_${++n}` }) }));
    const dest = "https://hooks.example.com/workstream/q1";
    await engine.enqueue({ id: "q1", queue: "default", payload: {}, callbackUrl: dest });
    const w = worker({ ...env, QSTASH_URL: qstash.url, SST_RESOURCE_App: SST_APP, SST_RESOURCE_QStashToken: sstSecret("linked-qstash-token") });
    await within(w.ready, 30_000, "worker start");
    await completed(engine, "q1");
    const [published] = await waitFor("callback published to QStash", () => {
      const p = posts(qstash, `/v2/publish/${dest}`);
      return p.length > 0 ? p : null;
    }, { timeoutMs: 10_000 });
    expect(published!.headers["authorization"]).toBe("Bearer linked-qstash-token");
    expect(published!.headers["upstash-deduplication-id"]).toMatch(/^q1:completed:\d{13}$/);
    expect(JSON.parse(published!.body)).toMatchObject({ jobId: "q1", queue: "default", outcome: "completed", attempts: 1 });
  }, 60_000);

  it("takes WORKSTREAM_ENCRYPTION_KEYS from the SST link (PayloadEncryptionKey)", async () => {
    const { engine, env } = setup();
    const spec = newKeyring("k1");
    const sealed = sealedRequest({ id: "enc-linked", queue: "default", payload: { secret: "s3cr3t-linked", plain: 1 } }, ["payload.secret"], parseKeyring(spec, "TEST"));
    await engine.enqueue(sealed);
    expect(looksSealed(((await engine.getJob("enc-linked")).payload as { secret: unknown }).secret)).toBe(true);
    const w = worker({ ...env, WORKSTREAM_HANDLER: ECHO_HANDLER, SST_RESOURCE_App: SST_APP, SST_RESOURCE_PayloadEncryptionKey: sstSecret(spec) });
    await within(w.ready, 30_000, "worker start");
    expect((await completed(engine, "enc-linked")).result).toEqual({ payload: { secret: "s3cr3t-linked", plain: 1 } });
  }, 60_000);
});

describe("worker process: job callbacks", () => {
  it("sends a job's completed callback itself, once, with the result", async () => {
    const { engine, env } = setup();
    const receiver = await stub();
    await engine.enqueue({ id: "cb-x", queue: "default", payload: {}, callbackUrl: `${receiver.url}/cb/x` });
    const w = worker({ ...env, WORKSTREAM_WORKER_ID: "cb-worker" });
    await within(w.ready, 30_000, "worker start");
    await completed(engine, "cb-x");
    await waitFor("callback received", () => posts(receiver, "/cb/x").length > 0, { timeoutMs: 10_000 });
    await sleep(1000); // nothing more arrives
    const got = posts(receiver, "/cb/x");
    expect(got).toHaveLength(1);
    expect(got[0]!.headers["content-type"]).toContain("application/json");
    expect(JSON.parse(got[0]!.body)).toMatchObject({
      jobId: "cb-x",
      queue: "default",
      outcome: "completed",
      result: { id: "cb-x", attempt: 1, worker: "cb-worker" },
      attempts: 1,
    });
    expect(receiver.requests).toHaveLength(1);
    // Sent and settled by the worker: nothing left in the outbox for maintenance to send again.
    await waitFor("outbox settled", async () => (await rawRedis().xlen(engine.keys.callbacks())) === 0, { timeoutMs: 5_000 });
  }, 60_000);

  it("sends the callbacks of jobs that fail for good: failed (non-retryable) and dead_lettered (retries exhausted)", async () => {
    const { engine, env } = setup();
    const receiver = await stub();
    await engine.enqueue({ id: "cb-fatal", queue: "default", payload: { fail: "fatal" }, callbackUrl: `${receiver.url}/cb/fatal` });
    await engine.enqueue({ id: "cb-dead", queue: "default", payload: { fail: "retryable" }, maxRetries: 0, callbackUrl: `${receiver.url}/cb/dead` });
    const w = worker(env);
    await within(w.ready, 30_000, "worker start");
    await waitFor("callbacks received", () => posts(receiver, "/cb/fatal").length > 0 && posts(receiver, "/cb/dead").length > 0, { timeoutMs: 20_000 });
    await sleep(500);
    expect(receiver.requests).toHaveLength(2);
    expect(JSON.parse(posts(receiver, "/cb/fatal")[0]!.body)).toMatchObject({
      jobId: "cb-fatal",
      queue: "default",
      outcome: "failed",
      attempts: 1,
      error: { name: "NonRetryableError", message: "this job cannot succeed" },
    });
    expect(JSON.parse(posts(receiver, "/cb/dead")[0]!.body)).toMatchObject({ jobId: "cb-dead", queue: "default", outcome: "dead_lettered", attempts: 1, error: { message: "flaky upstream" } });
  }, 60_000);

  it("with WORKSTREAM_NOTIFY_MODE=off the worker sends nothing; the callback stays queued for maintenance", async () => {
    const { engine, env, port } = setup();
    const receiver = await stub();
    await engine.enqueue({ id: "cb-off", queue: "default", payload: {}, callbackUrl: `${receiver.url}/cb/off` });
    const w = worker({ ...env, WORKSTREAM_NOTIFY_MODE: "off" });
    await within(w.ready, 30_000, "worker start");
    await completed(engine, "cb-off");
    await sleep(1000);
    expect(receiver.requests).toHaveLength(0);
    expect(await rawRedis().xlen(engine.keys.callbacks())).toBe(1); // queued by the ack, atomically

    const notify = createNotifyContext({ config: notifyConfigFromEnv({}), jobs: engine, queueNames: engine.queues.ordered.map((q) => q.name), log: memoryLogger() });
    const report = await runMaintenance({ engine, redis: port, notify, log: memoryLogger() }, {});
    expect(report.deliveries).toMatchObject([{ kind: "callback", deduplicationId: expect.stringMatching(/^cb-off:completed:\d{13}$/), result: { ok: true } }]);
    const got = posts(receiver, "/cb/off");
    expect(got).toHaveLength(1);
    expect(JSON.parse(got[0]!.body)).toMatchObject({ jobId: "cb-off", queue: "default", outcome: "completed", result: { id: "cb-off", attempt: 1 }, attempts: 1 });
    expect(await rawRedis().xlen(engine.keys.callbacks())).toBe(0);

    // A second maintenance run sends nothing again.
    await runMaintenance({ engine, redis: port, notify, log: memoryLogger() }, {});
    expect(receiver.requests).toHaveLength(1);
  }, 60_000);
});

describe("worker process: sensitive payload fields", () => {
  it("decrypts sensitive payload fields for the handler with WORKSTREAM_ENCRYPTION_KEYS; without the key the handler gets the sealed envelope", async () => {
    const spec = newKeyring("k1");
    const ring = parseKeyring(spec, "TEST");
    const request = (id: string) => sealedRequest({ id, queue: "default", payload: { secret: "hunter2", nested: { keep: true } } }, ["payload.secret"], ring);

    // Worker with the key (an old key listed after the current one, as during a rotation).
    const withKey = setup();
    await withKey.engine.enqueue(request("enc-1"));
    const stored = (await withKey.engine.getJob("enc-1")).payload as { secret: unknown };
    expect(looksSealed(stored.secret)).toBe(true); // sealed at rest
    expect(JSON.stringify(stored)).not.toContain("hunter2");
    const a = worker({ ...withKey.env, WORKSTREAM_HANDLER: ECHO_HANDLER, WORKSTREAM_ENCRYPTION_KEYS: `${spec},${newKeyring("k0")}` });

    // Worker without it, on its own prefix.
    const noKey = setup();
    await noKey.engine.enqueue(request("enc-2"));
    const b = worker({ ...noKey.env, WORKSTREAM_HANDLER: ECHO_HANDLER });

    await within(Promise.all([a.ready, b.ready]), 30_000, "workers start");
    const opened = await completed(withKey.engine, "enc-1");
    expect(opened.result).toEqual({ payload: { secret: "hunter2", nested: { keep: true } } });

    const sealedJob = await completed(noKey.engine, "enc-2");
    const seen = (sealedJob.result as { payload: { secret: unknown; nested: unknown } }).payload;
    expect(looksSealed(seen.secret)).toBe(true);
    expect(seen.secret).toMatchObject({ $ws_enc: "v1", kid: "k1" });
    expect(seen.nested).toEqual({ keep: true });
    expect(JSON.stringify(seen)).not.toContain("hunter2");
  }, 60_000);

  it("a key the envelope was not sealed with leaves the field sealed (and the job still runs)", async () => {
    const { engine, env } = setup();
    const sealed = sealedRequest({ id: "enc-wrong", queue: "default", payload: { secret: "nope" } }, ["payload.secret"], parseKeyring(newKeyring("k1"), "TEST"));
    await engine.enqueue(sealed);
    const w = worker({ ...env, WORKSTREAM_HANDLER: ECHO_HANDLER, WORKSTREAM_ENCRYPTION_KEYS: newKeyring("k1") }); // same kid, different key
    await within(w.ready, 30_000, "worker start");
    const job = await completed(engine, "enc-wrong");
    expect(looksSealed((job.result as { payload: { secret: unknown } }).payload.secret)).toBe(true);
    await waitFor("warning logged", () => w.lines.some((l) => l.includes("could not be decrypted")), { timeoutMs: 5_000 });
  }, 60_000);
});
