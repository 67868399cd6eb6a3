import { CloudWatchClient, PutMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  cloudWatchSink,
  DEFAULT_QUEUES,
  memoryLogger,
  metricsConfigFromEnv,
  publishMetrics,
  type MetricsPublisherDeps,
} from "../../packages/core/src/index.ts";
import { makeEngine, type TestEngine } from "../support/engines.ts";
import { startHttpStub, type HttpStub } from "../support/http-stub.ts";

interface SentDatum {
  MetricName: string;
  Dimensions: Array<{ Name: string; Value: string }>;
  Unit: string;
  Value?: number;
  StatisticValues?: { SampleCount: number; Sum: number; Minimum: number; Maximum: number };
  Timestamp: number;
}

let cw: HttpStub;
beforeAll(async () => {
  process.env.AWS_EC2_METADATA_DISABLED = "true";
  cw = await startHttpStub();
});
afterAll(() => cw.close());

const realClient = () =>
  new CloudWatchClient({ endpoint: cw.url, region: "us-east-1", credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "test-secret" }, maxAttempts: 1 });

/** Decodes the AWS JSON 1.0 PutMetricData requests the real client sent into a lookup. */
function sent(from: number) {
  const reqs = cw.requests.slice(from);
  const data: Array<SentDatum & { namespace: string }> = [];
  for (const r of reqs) {
    expect(r.headers["x-amz-target"]).toBe("GraniteServiceVersion20100801.PutMetricData");
    const body = JSON.parse(r.body) as { Namespace: string; MetricData: SentDatum[] };
    expect(body.MetricData.length).toBeLessThanOrEqual(150);
    for (const d of body.MetricData) data.push({ ...d, namespace: body.Namespace });
  }
  const get = (name: string, queue: string) => {
    const found = data.filter((d) => d.MetricName === name && d.Dimensions.length === 1 && d.Dimensions[0]!.Name === "Queue" && d.Dimensions[0]!.Value === queue);
    expect(found.length, `${name} ${queue}`).toBeLessThanOrEqual(1);
    return found[0];
  };
  return { reqs, data, get };
}

/** default: 4 enqueued, 2 completed (1 s and 3 s), 1 dead-lettered, 1 pending for 9 s; high_priority: 1 in flight. */
async function knownState(t: TestEngine) {
  const { engine, clock } = t;
  await engine.enqueueBatch([{ id: "a", payload: {} }, { id: "b", payload: {} }, { id: "c", payload: {} }, { id: "d", payload: {} }]);
  await engine.enqueue({ id: "h", payload: {}, queue: "high_priority" });
  const claim = async () => {
    const c = await engine.claim({ workerId: "w" });
    if (c.status !== "claimed") throw new Error("empty");
    return c;
  };
  await claim(); // h stays in flight
  const a = await claim();
  clock.advance(1000);
  await engine.ack("a", a.lease.token, null);
  const b = await claim();
  clock.advance(3000);
  await engine.ack("b", b.lease.token, null);
  const c = await claim();
  await engine.fail("c", c.lease.token, { error: { message: "bad input" }, retryable: false });
  clock.advance(5000);
}

const workers = { workerStats: async () => ({ total: 3, idle: 1, busy: 1, suspended: 1 }) };

describe("CloudWatch metrics", () => {
  it("publishes names, dimensions, values and units for a known queue state through the real client", async () => {
    const t = makeEngine("tcp");
    await knownState(t);
    const log = memoryLogger();
    const from = cw.requests.length;
    const deps: MetricsPublisherDeps = { engine: t.engine, redis: t.port, sink: cloudWatchSink(realClient()), namespace: "WsTest", workers, now: t.clock.now, log };
    const report = await publishMetrics(deps);
    expect(report).toMatchObject({ status: "published", failedRequests: 0 });
    const { data, get } = sent(from);
    expect(new Set(data.map((d) => d.namespace))).toEqual(new Set(["WsTest"]));
    expect(data.every((d) => d.Timestamp === t.clock.now() / 1000)).toBe(true);

    const v = (name: string, q: string) => get(name, q)?.Value;
    expect([v("JobsEnqueued", "default"), v("JobsCompleted", "default"), v("JobsFailed", "default")]).toEqual([4, 2, 1]);
    expect([v("QueueDepth", "default"), v("InFlight", "default"), v("DlqDepth", "default"), v("OldestPendingAgeSeconds", "default")]).toEqual([1, 0, 1, 9]);
    expect(get("JobDuration", "default")).toMatchObject({ Unit: "Milliseconds", StatisticValues: { SampleCount: 2, Sum: 4000, Minimum: 1000, Maximum: 3000 } });
    expect([v("JobsEnqueued", "high_priority"), v("InFlight", "high_priority"), v("QueueDepth", "high_priority")]).toEqual([1, 1, 0]);
    expect(get("JobDuration", "high_priority")).toBeUndefined();
    expect([v("JobsEnqueued", "low_priority"), v("QueueDepth", "low_priority")]).toEqual([0, 0]);
    expect([v("JobsEnqueued", "ALL"), v("JobsCompleted", "ALL"), v("JobsFailed", "ALL"), v("QueueDepth", "ALL"), v("InFlight", "ALL"), v("DlqDepth", "ALL")]).toEqual([5, 2, 1, 1, 1, 1]);
    expect(get("JobDuration", "ALL")?.StatisticValues).toEqual({ SampleCount: 2, Sum: 4000, Minimum: 1000, Maximum: 3000 });
    expect([v("WorkersBusy", "ALL"), v("WorkersIdle", "ALL"), v("BacklogPerWorker", "ALL")]).toEqual([1, 1, 1]);
    expect(get("WorkersBusy", "default")).toBeUndefined();
    expect([v("FailedJobs", "default"), v("FailedJobs", "ALL")]).toEqual([1, 1]);
    expect(get("OldestPendingAgeSeconds", "ALL")).toMatchObject({ Unit: "Seconds", Value: 9 });
    expect(get("JobsEnqueued", "ALL")).toMatchObject({ Unit: "Count" });
    expect(log.records).toContainEqual(expect.objectContaining({ level: "warn", event: "threshold.dlq_new", queue: "default", value: 1 }));

    // nothing new since: counts are zero (deltas), gauges unchanged, no duration statistic
    const again = cw.requests.length;
    await publishMetrics(deps);
    const next = sent(again);
    expect([next.get("JobsEnqueued", "default")?.Value, next.get("JobsCompleted", "ALL")?.Value, next.get("QueueDepth", "default")?.Value]).toEqual([0, 0, 1]);
    expect(next.get("JobDuration", "default")).toBeUndefined();
  });

  it("survives a CloudWatch 500 (logged) and publishes the kept counts on the next run", async () => {
    const t = makeEngine("tcp");
    await knownState(t);
    const log = memoryLogger();
    const deps: MetricsPublisherDeps = { engine: t.engine, redis: t.port, sink: cloudWatchSink(realClient()), workers, now: t.clock.now, log };
    cw.respond(() => ({ status: 500, headers: { "content-type": "application/x-amz-json-1.0" }, body: JSON.stringify({ __type: "InternalServiceFault", message: "boom" }) }));
    try {
      expect(await publishMetrics(deps)).toMatchObject({ status: "failed" });
    } finally {
      cw.respond(() => ({ status: 200, body: "{}" }));
    }
    expect(log.records).toContainEqual(expect.objectContaining({ level: "error", event: "metrics.publish_failed", countsKept: true }));

    await t.engine.enqueue({ id: "e", payload: {} });
    const from = cw.requests.length;
    expect(await publishMetrics(deps)).toMatchObject({ status: "published" });
    const { get } = sent(from);
    expect([get("JobsEnqueued", "default")?.Value, get("JobsCompleted", "default")?.Value, get("JobsFailed", "default")?.Value]).toEqual([5, 2, 1]);
    expect(get("JobDuration", "ALL")?.StatisticValues).toMatchObject({ SampleCount: 2, Sum: 4000 });
  });

  it("two concurrent publishers never double count", async () => {
    const t = makeEngine("tcp");
    const mock = mockClient(CloudWatchClient);
    mock.on(PutMetricDataCommand).resolves({});
    try {
      await t.engine.enqueueBatch(Array.from({ length: 25 }, (_, i) => ({ id: `n${i}`, payload: {} })));
      const deps = (port: TestEngine["port"]): MetricsPublisherDeps => ({ engine: t.engine, redis: port, sink: cloudWatchSink(new CloudWatchClient({ region: "us-east-1" })), now: t.clock.now, log: memoryLogger() });
      const other = makeEngine("upstash");
      const reports = await Promise.all([publishMetrics(deps(t.port)), publishMetrics(deps(other.port)), publishMetrics(deps(t.port))]);
      expect(reports.filter((r) => r.status === "published").length).toBeGreaterThanOrEqual(1);
      const enq = mock
        .commandCalls(PutMetricDataCommand)
        .flatMap((c) => c.args[0].input.MetricData ?? [])
        .filter((d) => d.MetricName === "JobsEnqueued" && d.Dimensions?.[0]?.Value === "default")
        .reduce((sum, d) => sum + (d.Value ?? 0), 0);
      expect(enq).toBe(25);
    } finally {
      mock.restore();
    }
  });

  it("BacklogPerWorker counts only the queues and permission levels the autoscaled workers take", async () => {
    const t = makeEngine("tcp");
    await t.engine.enqueueBatch([
      { id: "auto-1", payload: {}, permissionLevel: "autonomous" },
      { id: "auto-2", payload: {}, permissionLevel: "autonomous" },
      { id: "sup-1", payload: {}, permissionLevel: "supervised" },
      { id: "human-1", payload: {}, permissionLevel: "human_required" },
      { id: "low-auto", payload: {}, queue: "low_priority", permissionLevel: "autonomous" },
    ]);
    const started = await t.engine.claim({ workerId: "w", queues: ["default"], permissionLevels: ["autonomous"] });
    expect(started.status).toBe("claimed");
    const [stats] = await t.engine.stats(["default"]);
    expect(stats!.byLevel).toEqual({ autonomous: { pending: 1, started: 1 }, supervised: { pending: 1, started: 0 }, human_required: { pending: 1, started: 0 } });
    const twoWorkers = { workerStats: async () => ({ total: 2, idle: 1, busy: 1, suspended: 0 }) };
    const backlogFor = async (backlog?: MetricsPublisherDeps["backlog"]) => {
      const from = cw.requests.length;
      await publishMetrics({ engine: t.engine, redis: t.port, sink: cloudWatchSink(realClient()), workers: twoWorkers, now: t.clock.now, log: memoryLogger(), ...(backlog && { backlog }) });
      return sent(from).get("BacklogPerWorker", "ALL")?.Value;
    };
    expect(await backlogFor()).toBe(5 / 2); // everything: 4 pending + 1 in flight
    expect(await backlogFor({ queues: null, levels: ["autonomous"] })).toBe(3 / 2);
    expect(await backlogFor({ queues: ["default"], levels: ["autonomous"] })).toBe(2 / 2);
    expect(await backlogFor({ queues: ["default"], levels: ["autonomous", "supervised"] })).toBe(3 / 2);

    // capacity counts only the workers that take work in scope (busy or idle, overlapping queues and levels)
    const mixed = {
      workerStats: async () => ({
        total: 5, idle: 2, busy: 2, suspended: 1,
        workers: [
          { state: "busy", queues: ["default", "high_priority"], permission_levels: ["autonomous"] }, // fargate
          { state: "idle", queues: ["default"], permission_levels: ["autonomous"] }, // fargate
          { state: "busy", queues: ["default"], permission_levels: ["supervised"] }, // a supervised pool
          { state: "idle", queues: ["low_priority"], permission_levels: ["autonomous"] }, // another queue
          { state: "suspended", queues: ["default"], permission_levels: ["autonomous"] },
        ],
      }),
    };
    const from = cw.requests.length;
    await publishMetrics({ engine: t.engine, redis: t.port, sink: cloudWatchSink(realClient()), workers: mixed, now: t.clock.now, log: memoryLogger(), backlog: { queues: ["default"], levels: ["autonomous"] } });
    expect(sent(from).get("BacklogPerWorker", "ALL")?.Value).toBe(2 / 2); // 2 autonomous jobs in default / 2 fargate workers
  });

  it("batches many queues into requests of at most 150 entries", async () => {
    const queues = Array.from({ length: 60 }, (_, i) => ({ ...DEFAULT_QUEUES[1]!, name: `q${i}`, rank: i }));
    const t = makeEngine("tcp", { queues });
    const mock = mockClient(CloudWatchClient);
    mock.on(PutMetricDataCommand).resolves({});
    try {
      const report = await publishMetrics({ engine: t.engine, redis: t.port, sink: cloudWatchSink(new CloudWatchClient({ region: "us-east-1" })), now: t.clock.now, log: memoryLogger() });
      const calls = mock.commandCalls(PutMetricDataCommand);
      const sizes = calls.map((c) => c.args[0].input.MetricData?.length ?? 0);
      // 61 dimension values × (3 counts + 5 gauges) + BacklogPerWorker
      expect(sizes.reduce((a, b) => a + b, 0)).toBe(61 * 8 + 1);
      expect(Math.max(...sizes)).toBeLessThanOrEqual(150);
      expect(report).toMatchObject({ status: "published", requests: calls.length });
    } finally {
      mock.restore();
    }
  });

  it("reads its configuration from the environment, naming a bad variable", () => {
    expect(metricsConfigFromEnv({})).toEqual({ namespace: "Workstream", thresholds: { pending: 100, failed: 10 }, backlog: { queues: null, levels: null } });
    expect(metricsConfigFromEnv({ WORKSTREAM_BACKLOG_QUEUES: "debates, default", WORKSTREAM_BACKLOG_LEVELS: "autonomous" }).backlog).toEqual({ queues: ["debates", "default"], levels: ["autonomous"] });
    expect(() => metricsConfigFromEnv({ WORKSTREAM_BACKLOG_LEVELS: "autonomous,root" })).toThrow(/WORKSTREAM_BACKLOG_LEVELS/);
    expect(() => metricsConfigFromEnv({ WORKSTREAM_BACKLOG_QUEUES: " , " })).toThrow(/WORKSTREAM_BACKLOG_QUEUES/);
    expect(metricsConfigFromEnv({ WORKSTREAM_METRICS_NAMESPACE: "Acme/Queues", WORKSTREAM_ALERT_PENDING: "500" })).toMatchObject({ namespace: "Acme/Queues", thresholds: { pending: 500 } });
    expect(() => metricsConfigFromEnv({ WORKSTREAM_ALERT_FAILED: "ten" })).toThrow(/WORKSTREAM_ALERT_FAILED/);
  });
});
