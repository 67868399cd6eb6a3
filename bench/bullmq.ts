/**
 * BullMQ 6.7.0 under test, with its defaults except: `removeOnComplete: true` on every job (so its
 * memory is bounded like Workstream's, whose completed records expire after their result TTL),
 * and an ioredis instance passed as `connection` (so the bench can count what it sends; BullMQ
 * duplicates it for the worker's blocking connection). One Queue (producer) and one Worker, each
 * on its own connection, on a fresh prefix and queue name.
 */
import { Queue, Worker } from "bullmq";
import { Redis } from "ioredis";
import type { BenchPayload, QueueSystem, RunningWorker, WorkerSpec } from "./common.ts";

export async function openBullmq(redisUrl: string, runId: string): Promise<QueueSystem> {
  const prefix = `bmq${runId}`;
  const name = "bench";
  // BullMQ asks for maxRetriesPerRequest: null on worker connections (blocking commands).
  const producerConn = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue<BenchPayload>(name, { connection: producerConn, prefix, defaultJobOptions: { removeOnComplete: true } });
  await queue.waitUntilReady();
  return {
    name: "BullMQ",
    async add(p) {
      await queue.add("job", p);
    },
    async addBatch(ps) {
      for (let i = 0; i < ps.length; i += 1000) await queue.addBulk(ps.slice(i, i + 1000).map((p) => ({ name: "job", data: p })));
    },
    async startWorker(spec: WorkerSpec): Promise<RunningWorker> {
      const conn = new Redis(redisUrl, { maxRetriesPerRequest: null });
      let done = 0;
      const onStart = spec.onStart;
      const worker = new Worker<BenchPayload>(
        name,
        async (job) => {
          onStart?.(job.data);
          return null;
        },
        { connection: conn, prefix, concurrency: spec.concurrency, autorun: false },
      );
      worker.on("completed", () => void done++);
      worker.on("error", (e) => console.error(`bullmq worker error: ${e.message}`));
      await worker.waitUntilReady();
      void worker.run().catch((e: unknown) => console.error("bullmq worker run failed", e));
      let stopped = false;
      return {
        processed: () => done,
        async stop() {
          if (stopped) return;
          stopped = true;
          await worker.close();
          await conn.quit().catch(() => conn.disconnect());
        },
      };
    },
    async close() {
      await queue.close();
      await producerConn.quit().catch(() => producerConn.disconnect());
    },
  };
}
