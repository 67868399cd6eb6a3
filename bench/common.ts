/**
 * What both systems under test offer the benchmark (the same small interface for Workstream and
 * BullMQ), the scenarios built on it (enqueue, batch enqueue, drain, steady-rate latency, trickle,
 * idle), and the client round-trip counter.
 *
 * Every loop here is bounded in count and in time: a scenario that does not finish within its
 * deadline throws, and the orchestrator cleans up.
 */
import { performance } from "node:perf_hooks";
import { Redis } from "ioredis";

/** A job's payload in every scenario: its index and the enqueue time on this process's clock. */
export interface BenchPayload {
  i: number;
  t: number;
}

export interface RunningWorker {
  /** Jobs completed (acked / moved to completed) so far. */
  processed(): number;
  stop(): Promise<void>;
}

export interface WorkerSpec {
  concurrency: number;
  /** Called when the handler starts, with the job's payload. */
  onStart?: (payload: BenchPayload) => void;
}

/** One system under test, on fresh keys (a new prefix and queue name per instance). */
export interface QueueSystem {
  readonly name: "Workstream" | "BullMQ";
  /** One job, one call. */
  add(payload: BenchPayload): Promise<void>;
  /** Many jobs, one call (Workstream enqueueBatch, BullMQ addBulk). */
  addBatch(payloads: BenchPayload[]): Promise<void>;
  /** Starts a worker with a no-op handler; resolves once it is running. */
  startWorker(spec: WorkerSpec): Promise<RunningWorker>;
  /** Closes the producer side. Workers are stopped by their owner. */
  close(): Promise<void>;
}

export type SystemFactory = (redisUrl: string, runId: string) => Promise<QueueSystem>;

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export const payload = (i: number): BenchPayload => ({ i, t: performance.now() });

/** Polls `cond` every `everyMs` until true; throws after `timeoutMs`. */
export async function until(cond: () => boolean, timeoutMs: number, what: string, everyMs = 1): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

// ── scenarios ───────────────────────────────────────────────────────────────────────────────

/** Sequential single adds (each awaited before the next). Returns the elapsed ms. */
export async function enqueueSequential(sys: QueueSystem, n: number, timeoutMs: number): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    await sys.add(payload(i));
    if ((i & 255) === 0 && performance.now() - t0 > timeoutMs) throw new Error(`${sys.name}: enqueue of ${n} exceeded ${timeoutMs} ms`);
  }
  return performance.now() - t0;
}

/** Batches of `size`, each awaited before the next. Returns the elapsed ms. */
export async function enqueueBatches(sys: QueueSystem, n: number, size: number, timeoutMs: number): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < n; i += size) {
    const batch = Array.from({ length: Math.min(size, n - i) }, (_, k) => payload(i + k));
    await sys.addBatch(batch);
    if (performance.now() - t0 > timeoutMs) throw new Error(`${sys.name}: batch enqueue of ${n} exceeded ${timeoutMs} ms`);
  }
  return performance.now() - t0;
}

/** Starts a worker, waits until `n` jobs completed, stops it. Returns ms from start to the n-th completion. */
export async function drain(sys: QueueSystem, n: number, concurrency: number, timeoutMs: number): Promise<number> {
  const t0 = performance.now();
  const w = await sys.startWorker({ concurrency });
  try {
    await until(() => w.processed() >= n, timeoutMs, `${sys.name} to drain ${n} jobs at concurrency ${concurrency}`);
    return performance.now() - t0;
  } finally {
    await w.stop();
  }
}

/**
 * Steady arrivals: one producer enqueues at `ratePerSec` for `durationMs` (each add at its
 * scheduled time, so a slow add does not slow the schedule), a running worker records enqueue →
 * handler start for each job. Returns the latencies in ms.
 */
export async function steadyLatency(sys: QueueSystem, ratePerSec: number, durationMs: number, concurrency: number): Promise<number[]> {
  const n = Math.round((ratePerSec * durationMs) / 1000);
  const latencies: number[] = [];
  const w = await sys.startWorker({ concurrency, onStart: (p) => latencies.push(performance.now() - p.t) });
  try {
    await sleep(300); // let the worker reach its idle wait
    const interval = 1000 / ratePerSec;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const due = t0 + i * interval;
      const wait = due - performance.now();
      if (wait > 0.5) await sleep(wait);
      await sys.add(payload(i));
    }
    await until(() => w.processed() >= n, 30_000, `${sys.name} latency run to finish`);
  } finally {
    await w.stop();
  }
  return latencies;
}

/** One job at a time with an idle worker waiting: add, wait for its completion, let the worker go idle again. */
export async function trickle(sys: QueueSystem, w: RunningWorker, n: number, gapMs: number): Promise<void> {
  const base = w.processed();
  for (let i = 0; i < n; i++) {
    await sys.add(payload(i));
    await until(() => w.processed() >= base + i + 1, 10_000, `${sys.name} trickle job ${i}`);
    await sleep(gapMs);
  }
}

// ── client round trips ──────────────────────────────────────────────────────────────────────

export interface TripCount {
  trips: number;
  commands: number;
}

/**
 * Counts what ioredis clients send, at the wire: every command written on its own is one round
 * trip, a pipeline or MULTI (explicit or auto-pipelined) is one round trip whatever it holds.
 * Installed once on `Redis.prototype.sendCommand`, so duplicated connections (BullMQ's blocking
 * connection, Workstream's blocking XREAD connection) are counted too. Counts are kept per server
 * port (systems measured side by side use separate servers); connections passed to `ignore` (the
 * admin connections) are not counted.
 */
export class RoundTripCounter {
  private static installed: RoundTripCounter | undefined;
  private byPort = new Map<number, TripCount>();
  private readonly ignored = new WeakSet<object>();
  private readonly seenCommands = new WeakSet<object>();
  private readonly seenPipelines = new WeakSet<object>();

  static install(): RoundTripCounter {
    if (RoundTripCounter.installed) return RoundTripCounter.installed;
    const counter = new RoundTripCounter();
    const proto = Redis.prototype as unknown as { sendCommand: (this: Redis, command: object, stream?: object, node?: unknown) => unknown };
    const original = proto.sendCommand;
    proto.sendCommand = function (this: Redis, command: object, stream?: object, node?: unknown) {
      counter.record(this, command, stream);
      return original.call(this, command, stream, node);
    };
    RoundTripCounter.installed = counter;
    return counter;
  }

  ignore(client: Redis): void {
    this.ignored.add(client);
  }

  reset(): void {
    this.byPort = new Map();
  }

  /** Totals for one server port, or for all when omitted. */
  count(port?: number): TripCount {
    if (port !== undefined) return { ...(this.byPort.get(port) ?? { trips: 0, commands: 0 }) };
    const all = { trips: 0, commands: 0 };
    for (const c of this.byPort.values()) {
      all.trips += c.trips;
      all.commands += c.commands;
    }
    return all;
  }

  private record(client: Redis, command: object, stream?: object): void {
    if (this.ignored.has(client)) return;
    // A command re-sent (offline queue flush, reconnect) is counted once.
    if (this.seenCommands.has(command)) return;
    this.seenCommands.add(command);
    const port = Number((client.options as { port?: number }).port ?? 0);
    let c = this.byPort.get(port);
    if (!c) this.byPort.set(port, (c = { trips: 0, commands: 0 }));
    c.commands++;
    if (stream && (stream as { isPipeline?: boolean }).isPipeline) {
      if (this.seenPipelines.has(stream)) return;
      this.seenPipelines.add(stream);
    }
    c.trips++;
  }
}
