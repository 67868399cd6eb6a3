/**
 * CloudWatch metrics, published every minute by functions/cron/metrics.ts.
 *
 * Per queue (dimension `Queue=<name>`) and in aggregate (`Queue=ALL`):
 *   JobsEnqueued, JobsCompleted, JobsFailed   Count         growth since the last publish
 *   JobDuration                               Milliseconds  statistic set (count/sum/min/max) of run times
 *   QueueDepth, InFlight, DlqDepth            Count         pending, leased, dead-lettered now
 *   OldestPendingAgeSeconds                   Seconds       wait of the oldest pending job (0 if none)
 *   FailedJobs                                Count         failed for good within the failure TTL (seed 1's failed registry)
 * Only `Queue=ALL`:
 *   WorkersBusy, WorkersIdle                  Count         from the worker registry, when one is wired
 *   BacklogPerWorker                          Count         (pending + in flight) / max(1, busy + idle), both
 *                                                           counted over the queues and permission levels the
 *                                                           autoscaled workers take (WORKSTREAM_BACKLOG_QUEUES,
 *                                                           WORKSTREAM_BACKLOG_LEVELS; default: all): work they
 *                                                           cannot take does not scale them out, and workers
 *                                                           that cannot take theirs do not count as capacity
 *
 * Counts are exact and never lost or doubled: the metrics_take script moves them into an outbox
 * under a lease, and metrics_settle clears the outbox only after CloudWatch accepted them (a failed
 * send is retried by the next run, merged with newer counts). Seed 1's thresholds are also logged
 * as structured warnings: pending > 100 (warn), failed > 10 (error), any new DLQ entry (warn).
 */
import { randomUUID } from "node:crypto";
import { CloudWatchClient, PutMetricDataCommand, type MetricDatum, type StandardUnit } from "@aws-sdk/client-cloudwatch";
import { z } from "zod";
import type { Engine, QueueStats } from "../engine.ts";
import { describeError, jsonLineLogger, type StructuredLogger } from "../maintenance/log.ts";
import { runScript } from "../scripts.ts";
import type { RedisPort } from "../transports/port.ts";
import { envReader } from "../env.ts";
import { PermissionLevel } from "../messages.ts";

/** The worker registry's counts (packages/core/src/worker provides one); injected. */
export interface WorkerStatsSource {
  workerStats(): Promise<{
    total: number;
    idle: number;
    busy: number;
    suspended: number;
    /** Each worker, when known: BacklogPerWorker then counts only those that take work in its scope. */
    workers?: ReadonlyArray<{ state: string; queues: readonly string[]; permission_levels: readonly string[] }>;
  }>;
}

/** Where metric data goes: CloudWatch in production, anything in tests. */
export interface MetricsSink {
  put(namespace: string, data: MetricDatum[]): Promise<void>;
}

export function cloudWatchSink(client: CloudWatchClient): MetricsSink {
  return {
    async put(namespace, data) {
      await client.send(new PutMetricDataCommand({ Namespace: namespace, MetricData: data }));
    },
  };
}

export const METRICS_ENV = {
  namespace: "WORKSTREAM_METRICS_NAMESPACE",
  alertPending: "WORKSTREAM_ALERT_PENDING",
  alertFailed: "WORKSTREAM_ALERT_FAILED",
  backlogQueues: "WORKSTREAM_BACKLOG_QUEUES",
  backlogLevels: "WORKSTREAM_BACKLOG_LEVELS",
} as const;

/** What BacklogPerWorker counts: the autoscaled workers' queues and levels (null: all). */
export interface BacklogScope {
  queues: readonly string[] | null;
  levels: readonly PermissionLevel[] | null;
}

export interface Thresholds {
  /** Log a warning when a queue has more pending jobs than this (seed 1: 100). */
  pending: number;
  /** Log an error when a queue has more failed jobs (within the failure TTL) than this (seed 1: 10). */
  failed: number;
}

export interface MetricsConfig {
  namespace: string;
  thresholds: Thresholds;
  backlog: BacklogScope;
}

export function metricsConfigFromEnv(env: Record<string, string | undefined> = process.env): MetricsConfig {
  const read = envReader(env);
  const count = z.string().regex(/^\d+$/, "must be a whole number").transform(Number).optional();
  return {
    namespace: read(METRICS_ENV.namespace, z.string().min(1).max(255).regex(/^[^:]/, "must not start with ':'").regex(/^[\x20-\x7e]+$/, "must be printable ASCII").default("Workstream")),
    thresholds: { pending: read(METRICS_ENV.alertPending, count) ?? 100, failed: read(METRICS_ENV.alertFailed, count) ?? 10 },
    backlog: {
      queues: read(METRICS_ENV.backlogQueues, csv(z.string().min(1).max(64))) ?? null,
      levels: read(METRICS_ENV.backlogLevels, csv(PermissionLevel)) ?? null,
    },
  };
}

/** A comma-separated list of at least one item, each checked by `item`. */
function csv<T>(item: z.ZodType<T, string>) {
  return z
    .string()
    .transform((v) => v.split(",").map((x) => x.trim()).filter(Boolean))
    .pipe(z.array(item).min(1, "must list at least one"))
    .optional();
}

export interface MetricsPublisherDeps {
  engine: Engine;
  redis: RedisPort;
  sink: MetricsSink;
  namespace?: string;
  workers?: WorkerStatsSource | null;
  thresholds?: Thresholds;
  /** What BacklogPerWorker counts (default: every queue and level). */
  backlog?: BacklogScope;
  now?: () => number;
  log?: StructuredLogger;
  /** How long a publisher owns the outbox before another may take over (default 50 s). */
  leaseMs?: number;
  /** MetricData entries per PutMetricData request (default 150; the API allows 1000). */
  batchSize?: number;
}

export interface ThresholdAlert {
  level: "warn" | "error";
  kind: "pending" | "failed" | "dlq_new";
  queue: string;
  value: number;
  threshold: number;
}

export interface PublishReport {
  /** busy: another publisher holds the outbox lease, nothing was sent by this run. */
  status: "published" | "failed" | "busy";
  data: number;
  requests: number;
  failedRequests: number;
  alerts: ThresholdAlert[];
}

const TakeReply = z.discriminatedUnion("status", [
  z.object({ status: z.literal("busy") }),
  z.object({ status: z.literal("taken"), outbox: z.union([z.array(z.string()), z.strictObject({}).transform(() => [] as string[])]) }),
]);
const SettleReply = z.object({ settled: z.boolean() });

interface Counts {
  enqueued: number;
  failed: number;
  dcount: number;
  dsum: number;
  dmin: number | null;
  dmax: number | null;
}

const zero = (): Counts => ({ enqueued: 0, failed: 0, dcount: 0, dsum: 0, dmin: null, dmax: null });

function parseOutbox(flat: readonly string[], queues: readonly string[]): Map<string, Counts> {
  const out = new Map(queues.map((q) => [q, zero()]));
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const field = flat[i]!;
    const sep = field.lastIndexOf(":");
    if (sep < 0) continue;
    const c = out.get(field.slice(0, sep));
    const key = field.slice(sep + 1);
    const v = Number(flat[i + 1]);
    if (!c || !Number.isFinite(v)) continue;
    if (key === "enqueued" || key === "failed" || key === "dcount" || key === "dsum" || key === "dmin" || key === "dmax") c[key] = v;
  }
  return out;
}

function merge(all: Counts, c: Counts): void {
  all.enqueued += c.enqueued;
  all.failed += c.failed;
  all.dcount += c.dcount;
  all.dsum += c.dsum;
  if (c.dmin !== null) all.dmin = all.dmin === null ? c.dmin : Math.min(all.dmin, c.dmin);
  if (c.dmax !== null) all.dmax = all.dmax === null ? c.dmax : Math.max(all.dmax, c.dmax);
}

/** Splits data into requests of at most `size` entries and well under the 1 MB payload limit. */
export function batches(data: readonly MetricDatum[], size: number, maxBytes = 900_000): MetricDatum[][] {
  const out: MetricDatum[][] = [];
  let cur: MetricDatum[] = [];
  let bytes = 0;
  for (const d of data) {
    const b = JSON.stringify(d).length + 1;
    if (cur.length > 0 && (cur.length >= size || bytes + b > maxBytes)) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(d);
    bytes += b;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

/** One publish (see the module comment). Never throws for a CloudWatch failure: it is logged and retried next run. */
export async function publishMetrics(deps: MetricsPublisherDeps): Promise<PublishReport> {
  const now = (deps.now ?? Date.now)();
  const log = deps.log ?? jsonLineLogger;
  const namespace = deps.namespace ?? "Workstream";
  const thresholds = deps.thresholds ?? { pending: 100, failed: 10 };
  const queues = deps.engine.queues.ordered.map((q) => q.name);
  const prefix = deps.engine.keys.prefix;
  const token = randomUUID();

  const take = TakeReply.parse(JSON.parse(await runScript(deps.redis, "metrics_take", [], [prefix, now, token, deps.leaseMs ?? 50_000, ...queues])));
  if (take.status === "busy") {
    log.log({ level: "info", event: "metrics.busy", detail: "another publisher holds the outbox lease" });
    return { status: "busy", data: 0, requests: 0, failedRequests: 0, alerts: [] };
  }
  const counts = parseOutbox(take.outbox, queues);
  let stats: QueueStats[];
  let workers: Awaited<ReturnType<WorkerStatsSource["workerStats"]>> | null = null;
  try {
    stats = await deps.engine.stats(queues);
    if (deps.workers) workers = await deps.workers.workerStats();
  } catch (e) {
    await settle(deps.redis, prefix, now, token, false);
    throw e;
  }

  const timestamp = new Date(now);
  const datum = (name: string, queue: string, unit: StandardUnit, value: number): MetricDatum => ({
    MetricName: name,
    Dimensions: [{ Name: "Queue", Value: queue }],
    Timestamp: timestamp,
    Unit: unit,
    Value: value,
  });
  const counters: MetricDatum[] = [];
  const gauges: MetricDatum[] = [];
  const all = zero();
  const totals = { pending: 0, started: 0, dlq: 0, oldest: 0, failed: 0 };
  const scope = deps.backlog ?? { queues: null, levels: null };
  let backlog = 0;
  const addCounts = (q: string, c: Counts) => {
    counters.push(datum("JobsEnqueued", q, "Count", c.enqueued), datum("JobsCompleted", q, "Count", c.dcount), datum("JobsFailed", q, "Count", c.failed));
    if (c.dcount > 0) {
      counters.push({
        MetricName: "JobDuration",
        Dimensions: [{ Name: "Queue", Value: q }],
        Timestamp: timestamp,
        Unit: "Milliseconds",
        StatisticValues: { SampleCount: c.dcount, Sum: c.dsum, Minimum: c.dmin ?? 0, Maximum: c.dmax ?? 0 },
      });
    }
  };
  const alerts: ThresholdAlert[] = [];
  for (const s of stats) {
    const c = counts.get(s.queue) ?? zero();
    merge(all, c);
    addCounts(s.queue, c);
    const oldest = s.oldestPendingAgeMs === null ? 0 : s.oldestPendingAgeMs / 1000;
    gauges.push(datum("QueueDepth", s.queue, "Count", s.pending), datum("InFlight", s.queue, "Count", s.started), datum("DlqDepth", s.queue, "Count", s.dlq), datum("OldestPendingAgeSeconds", s.queue, "Seconds", oldest), datum("FailedJobs", s.queue, "Count", s.failed));
    totals.pending += s.pending;
    totals.started += s.started;
    totals.dlq += s.dlq;
    totals.failed += s.failed;
    totals.oldest = Math.max(totals.oldest, oldest);
    if (scope.queues === null || scope.queues.includes(s.queue)) {
      for (const [level, n] of Object.entries(s.byLevel)) {
        if (scope.levels === null || scope.levels.includes(level as PermissionLevel)) backlog += n.pending + n.started;
      }
    }
    if (s.pending > thresholds.pending) alerts.push({ level: "warn", kind: "pending", queue: s.queue, value: s.pending, threshold: thresholds.pending });
    if (s.failed > thresholds.failed) alerts.push({ level: "error", kind: "failed", queue: s.queue, value: s.failed, threshold: thresholds.failed });
    if (c.failed > 0) alerts.push({ level: "warn", kind: "dlq_new", queue: s.queue, value: c.failed, threshold: 0 });
  }
  addCounts("ALL", all);
  gauges.push(datum("QueueDepth", "ALL", "Count", totals.pending), datum("InFlight", "ALL", "Count", totals.started), datum("DlqDepth", "ALL", "Count", totals.dlq), datum("OldestPendingAgeSeconds", "ALL", "Seconds", totals.oldest), datum("FailedJobs", "ALL", "Count", totals.failed));
  if (workers) gauges.push(datum("WorkersBusy", "ALL", "Count", workers.busy), datum("WorkersIdle", "ALL", "Count", workers.idle));
  const capacity = Math.max(1, workersInScope(workers, scope));
  gauges.push(datum("BacklogPerWorker", "ALL", "Count", backlog / capacity));

  for (const a of alerts) {
    log.log({ level: a.level, event: `threshold.${a.kind}`, queue: a.queue, value: a.value, threshold: a.threshold });
  }

  // Counter data go first: the outbox is settled as published once every request carrying counts succeeded.
  const counterRequests = batches(counters, deps.batchSize ?? 150);
  const gaugeRequests = batches(gauges, deps.batchSize ?? 150);
  let failedRequests = 0;
  let countsSent = true;
  for (const [i, req] of [...counterRequests, ...gaugeRequests].entries()) {
    const carriesCounts = i < counterRequests.length;
    if (carriesCounts && !countsSent) {
      failedRequests++;
      continue;
    }
    try {
      await deps.sink.put(namespace, req);
    } catch (e) {
      failedRequests++;
      if (carriesCounts) countsSent = false;
      log.log({ level: "error", event: "metrics.publish_failed", namespace, entries: req.length, countsKept: carriesCounts, error: describeError(e) });
    }
  }
  await settle(deps.redis, prefix, now, token, countsSent);
  const status = failedRequests === 0 ? "published" : "failed";
  log.log({ level: "info", event: "metrics.run", status, data: counters.length + gauges.length, requests: counterRequests.length + gaugeRequests.length, failedRequests });
  return { status, data: counters.length + gauges.length, requests: counterRequests.length + gaugeRequests.length, failedRequests, alerts };
}

async function settle(redis: RedisPort, prefix: string, now: number, token: string, ok: boolean): Promise<boolean> {
  return SettleReply.parse(JSON.parse(await runScript(redis, "metrics_settle", [], [prefix, now, token, ok ? "1" : "0"]))).settled;
}

/** Busy and idle workers that take some of the work in `scope` (every one when the list is unknown). */
function workersInScope(workers: Awaited<ReturnType<WorkerStatsSource["workerStats"]>> | null, scope: BacklogScope): number {
  if (!workers) return 0;
  if (!workers.workers || (scope.queues === null && scope.levels === null)) return workers.busy + workers.idle;
  const overlaps = (mine: readonly string[], wanted: readonly string[] | null) => wanted === null || mine.some((x) => wanted.includes(x));
  return workers.workers.filter(
    (w) => (w.state === "busy" || w.state === "idle") && overlaps(w.queues, scope.queues) && overlaps(w.permission_levels, scope.levels),
  ).length;
}
