export { Worker, TimeoutError, WorkerShutdownError, type WorkerOptions, type JobHandler, type JobContext, type LocalWorkerStats } from "./worker.ts";
export { WorkerRegistry, REGISTRY_DEFAULTS, type WorkerState, type WorkerBeat, type WorkerInfo, type WorkerStats, type WorkerRegistryOptions } from "./registry.ts";
export { jsonLogger, silentLogger, type WorkerLogger, type LogFields, type LogLevel } from "./logger.ts";
