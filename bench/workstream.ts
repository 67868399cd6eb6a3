/**
 * Workstream under test: an Engine on its own TCP port for the producer, and the Worker runtime
 * (packages/core/src/worker, used as is) on another for the consumer, both on fresh keys.
 *
 * Both ports are wrapped so the calls the engine and the Worker make through the RedisPort are
 * counted (`portCalls`): a cross-check of the wire-level RoundTripCounter.
 */
import type { Redis } from "ioredis";
import { Engine, silentLogger, tcpPort, Worker, type BlockingRedisPort, type TcpPort } from "../packages/core/src/index.ts";
import type { BenchPayload, QueueSystem, RunningWorker, WorkerSpec } from "./common.ts";

/** Calls made through the RedisPort (evalsha, eval, blocking waits), all Workstream instances together. */
export const portCalls = { evalsha: 0, eval: 0, waits: 0, reset() { this.evalsha = 0; this.eval = 0; this.waits = 0; } };

/** The one queue both systems use (the Worker is told `queues: ["default"]`, like a BullMQ worker on one queue). */
export const WS_QUEUE = "default";

function counting(inner: TcpPort): BlockingRedisPort {
  return {
    evalsha: (sha, keys, args) => ((portCalls.evalsha++), inner.evalsha(sha, keys, args)),
    eval: (src, keys, args) => ((portCalls.eval++), inner.eval(src, keys, args)),
    waitForEntries: (streams, timeoutMs) => ((portCalls.waits++), inner.waitForEntries(streams, timeoutMs)),
    ...(inner.waitForList ? { waitForList: (key: string, t: number) => ((portCalls.waits++), inner.waitForList!(key, t)) } : {}),
    close: () => inner.close(),
  };
}

/**
 * Closes a tcpPort whose blocking connection may sit in `XREAD BLOCK` (up to 30 s): its QUIT is
 * queued behind the read, so unblock the server side (CLIENT UNBLOCK) to let it through at once.
 */
export async function closePort(port: TcpPort, admin: Redis): Promise<void> {
  const closing = port.close();
  for (let i = 0; i < 50; i++) {
    const done = await Promise.race([closing.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 20))]);
    if (done) return;
    const list = await admin.client("LIST");
    for (const line of String(list).split("\n")) {
      if (/ flags=\S*b/.test(line) && / cmd=xread\b/.test(line)) {
        const id = /\bid=(\d+)/.exec(line)?.[1];
        if (id) await admin.client("UNBLOCK", id).catch(() => 0);
      }
    }
  }
  port.client.disconnect();
}

export interface WorkstreamSystem extends QueueSystem {
  readonly engine: Engine;
  /** Opens another engine on its own port with the same keys (e.g. for maintenance ticks). */
  readonly keyPrefix: string;
}

export async function openWorkstream(redisUrl: string, runId: string, admin: Redis, opts: { workerQueues?: readonly string[] } = {}): Promise<WorkstreamSystem> {
  const keyPrefix = `ws${runId}:`;
  const producerPort = tcpPort(redisUrl);
  const engine = new Engine({ redis: counting(producerPort), settings: { keyPrefix } });
  await producerPort.client.ping();
  const workerQueues = opts.workerQueues ?? [WS_QUEUE];
  return {
    name: "Workstream",
    engine,
    keyPrefix,
    async add(p: BenchPayload) {
      await engine.enqueue({ queue: WS_QUEUE, payload: p });
    },
    async addBatch(ps: BenchPayload[]) {
      for (let i = 0; i < ps.length; i += 1000) await engine.enqueueBatch(ps.slice(i, i + 1000).map((p) => ({ queue: WS_QUEUE, payload: p })));
    },
    async startWorker(spec: WorkerSpec): Promise<RunningWorker> {
      const raw = tcpPort(redisUrl);
      await raw.client.ping();
      const port = counting(raw);
      const workerEngine = new Engine({ redis: port, settings: { keyPrefix } });
      const onStart = spec.onStart;
      const worker = new Worker({
        engine: workerEngine,
        redis: port,
        concurrency: spec.concurrency,
        queues: workerQueues,
        logger: silentLogger,
        handler: async (job) => {
          onStart?.(job.payload as BenchPayload);
          return null;
        },
      });
      await worker.start();
      let stopped = false;
      return {
        processed: () => worker.stats().jobs_processed,
        async stop() {
          if (stopped) return;
          stopped = true;
          await worker.stop({ graceMs: 5_000 });
          await closePort(raw, admin);
        },
      };
    },
    async close() {
      await closePort(producerPort, admin);
    },
  };
}
