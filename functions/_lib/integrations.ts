/**
 * Where the API meets modules owned elsewhere, wired here and nowhere else:
 * - notifications (packages/core/src/notify): afterEnqueue / afterAck / afterFail after the engine call;
 * - the worker registry (packages/core/src/worker): worker stats, suspend / resume.
 */
import {
  afterAck,
  afterEnqueue,
  afterFail,
  createNotifyContext,
  WorkerRegistry,
  type ApiHooks,
  type Engine,
  type NotifyConfig,
  type RedisPort,
  type WorkerControl,
} from "../../packages/core/src/index.ts";

export function apiHooks(engine: Engine, config: NotifyConfig): ApiHooks {
  const notify = createNotifyContext({ config, jobs: engine, queueNames: engine.queues.names });
  if (!notify) return {};
  return {
    afterEnqueue: (results) => afterEnqueue(notify, results),
    afterAck: (input) => afterAck(notify, input),
    afterFail: (input) => afterFail(notify, input),
  };
}

export function workerControl(engine: Engine, port: RedisPort): WorkerControl {
  const registry = new WorkerRegistry({ redis: port, keys: engine.keys });
  return {
    stats: () => registry.workerStats(),
    suspend: (id) => registry.suspendWorker(id),
    resume: (id) => registry.resumeWorker(id),
  };
}
