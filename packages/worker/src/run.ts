/**
 * The worker process: reads flags and environment, loads the job handler module, runs a Worker
 * until SIGTERM/SIGINT, then shuts down gracefully and exits 0. Used by `main.ts` (the container's
 * entry point) and by `workstream worker`.
 *
 * Exit codes: 0 stopped cleanly, 1 runtime error (Redis unreachable at start, handler module
 * failed to load), 2 bad flags or configuration — always with one line on stderr.
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { z } from "zod";
import {
  ConfigError,
  configFromEnv,
  createNotifyContext,
  Engine,
  jsonLogger,
  notifyConfigFromEnv,
  parseKeyring,
  PermissionLevel,
  redisAddress,
  tcpPort,
  Worker,
  type JobHandler,
  type Keyring,
  type LogLevel,
  type NotifyConfig,
} from "@workstream/core";

/** Environment variables the worker process reads (besides the engine's, see config.ts). */
export const WORKER_ENV = {
  queues: "WORKSTREAM_QUEUES",
  concurrency: "WORKSTREAM_CONCURRENCY",
  prefetch: "WORKSTREAM_PREFETCH",
  workerId: "WORKSTREAM_WORKER_ID",
  handler: "WORKSTREAM_HANDLER",
  shutdownGraceMs: "WORKSTREAM_SHUTDOWN_GRACE_MS",
  permissionLevels: "WORKSTREAM_PERMISSION_LEVELS",
  logLevel: "WORKSTREAM_LOG_LEVEL",
} as const;

export const DEFAULT_SHUTDOWN_GRACE_MS = 110_000;
/** The payload keyring, as the API reads it. */
const ENCRYPTION_KEYS_ENV = "WORKSTREAM_ENCRYPTION_KEYS";
/** After the grace period and a second signal, the process gives the release this long before it exits anyway. */
const FAILSAFE_MS = 30_000;

export const WORKER_USAGE = `usage: workstream worker [options]

Runs a worker until SIGTERM/SIGINT (graceful: in-flight jobs finish within the grace period, the
rest are released; a second signal stops at once, still releasing leases).

options (each overrides its environment variable):
  --handler PATH            module exporting the job handler as default or "handler"   (${WORKER_ENV.handler}, required)
  --queues a,b              queues to take work from, in priority order (default: all) (${WORKER_ENV.queues})
  --concurrency N           jobs at once, 1..1000 (default 1)                          (${WORKER_ENV.concurrency})
  --prefetch N|auto         claimed jobs kept in hand beyond concurrency (default auto) (${WORKER_ENV.prefetch})
  --worker-id ID            consumer name and registry id (default: host-pid-random)   (${WORKER_ENV.workerId})
  --permission-levels a,b   autonomous, supervised, human_required (default autonomous) (${WORKER_ENV.permissionLevels})
  --shutdown-grace-ms MS    grace period on SIGTERM (default ${DEFAULT_SHUTDOWN_GRACE_MS})              (${WORKER_ENV.shutdownGraceMs})
  --log-level LEVEL         debug, info, warn, error (default info)                    (${WORKER_ENV.logLevel})
  -h, --help                show this help

Redis and engine settings come from the environment: WORKSTREAM_REDIS_URL (required: the worker
blocks on TCP), WORKSTREAM_KEY_PREFIX, WORKSTREAM_CLAIM_IDLE_MS (lease length), …
Callbacks of the jobs it finishes are sent as the API sends them (QSTASH_TOKEN: through QStash;
WORKSTREAM_NOTIFY_MODE=off: left to scheduled maintenance). ${ENCRYPTION_KEYS_ENV} decrypts payload
fields enqueued as sensitive before the handler sees them.`;

/** A configuration problem: exit 2 with one line. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

const list = (s: string) => s.split(",").map((x) => x.trim()).filter(Boolean);
const wholeNumber = (name: string) => z.string().regex(/^\d+$/, `${name} must be a whole number`).transform(Number);

const WorkerConfig = z.object({
  handler: z.string({ error: `set ${WORKER_ENV.handler} or --handler to the module exporting your job handler` }).min(1),
  queues: z.array(z.string()).optional(),
  concurrency: wholeNumber(WORKER_ENV.concurrency).pipe(z.number().min(1, "concurrency must be 1..1000").max(1000, "concurrency must be 1..1000")).optional(),
  prefetch: z
    .union([z.literal("auto"), wholeNumber(WORKER_ENV.prefetch).pipe(z.number().max(1000, "prefetch must be 0..1000 or auto"))], {
      error: "prefetch must be 0..1000 or auto",
    })
    .optional(),
  workerId: z.string().optional(),
  permissionLevels: z.array(PermissionLevel).min(1).optional(),
  shutdownGraceMs: wholeNumber(WORKER_ENV.shutdownGraceMs).optional(),
  logLevel: z.enum(["debug", "info", "warn", "error"]).optional(),
});
export type WorkerConfig = z.infer<typeof WorkerConfig>;

export interface ParsedWorkerArgs {
  help: boolean;
  config: WorkerConfig;
  /** The environment the engine's configFromEnv reads. */
  engineEnv: Record<string, string | undefined>;
}

/**
 * Parses flags and environment (a flag wins over its variable). `WORKSTREAM_QUEUES` is the worker's
 * comma list of queues; queue definitions are `WORKSTREAM_QUEUE_CONFIG`, read by configFromEnv.
 */
export function parseWorkerArgs(argv: readonly string[], env: Record<string, string | undefined>): ParsedWorkerArgs {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        handler: { type: "string" },
        queues: { type: "string" },
        concurrency: { type: "string" },
        prefetch: { type: "string" },
        "worker-id": { type: "string" },
        "permission-levels": { type: "string" },
        "shutdown-grace-ms": { type: "string" },
        "log-level": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message.split("\n")[0]! : String(e));
  }
  const str = (flag: string, name: string): string | undefined => {
    const v = values[flag];
    if (typeof v === "string") return v;
    const e = env[name];
    return e === undefined || e === "" ? undefined : e;
  };
  const engineEnv = { ...env };
  const queuesRaw = str("queues", WORKER_ENV.queues);
  const levelsRaw = str("permission-levels", WORKER_ENV.permissionLevels);
  const parsed = WorkerConfig.safeParse({
    handler: str("handler", WORKER_ENV.handler),
    queues: queuesRaw === undefined ? undefined : list(queuesRaw),
    concurrency: str("concurrency", WORKER_ENV.concurrency),
    prefetch: str("prefetch", WORKER_ENV.prefetch),
    workerId: str("worker-id", WORKER_ENV.workerId),
    permissionLevels: levelsRaw === undefined ? undefined : list(levelsRaw),
    shutdownGraceMs: str("shutdown-grace-ms", WORKER_ENV.shutdownGraceMs),
    logLevel: str("log-level", WORKER_ENV.logLevel),
  });
  if (values["help"] === true) return { help: true, config: { handler: "" }, engineEnv };
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw new UsageError(`${i.path.length ? `${i.path.join(".")}: ` : ""}${i.message}`);
  }
  return { help: false, config: parsed.data, engineEnv };
}

/** Imports the handler module and returns its `default` or `handler` export. */
export async function loadHandler(path: string): Promise<JobHandler> {
  const url = pathToFileURL(resolve(process.cwd(), path)).href;
  let mod: Record<string, unknown>;
  try {
    mod = (await import(url)) as Record<string, unknown>;
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (code === "ERR_MODULE_NOT_FOUND" && String((e as Error).message).includes(resolve(process.cwd(), path))) {
      throw new UsageError(`handler module not found: ${path}`);
    }
    throw e;
  }
  const fn = typeof mod["default"] === "function" ? mod["default"] : mod["handler"];
  if (typeof fn !== "function") throw new UsageError(`${path} exports no function as "default" or "handler"`);
  return fn as JobHandler;
}

export interface RunOptions {
  argv: readonly string[];
  env: Record<string, string | undefined>;
  /** One-line messages for the operator (default: stderr). */
  stderr?: (line: string) => void;
  /** Log lines (default: stdout). */
  stdout?: (line: string) => void;
}

/**
 * Runs the worker process until it is told to stop. Resolves the exit code; never throws.
 *
 * @example
 * process.exitCode = await runWorkerProcess({ argv: process.argv.slice(2), env: process.env });
 */
export async function runWorkerProcess(opts: RunOptions): Promise<number> {
  const errLine = opts.stderr ?? ((l: string) => void process.stderr.write(`${l}\n`));
  const out = opts.stdout ?? ((l: string) => void process.stdout.write(l));
  let parsed: ParsedWorkerArgs;
  let engineConfig: ReturnType<typeof configFromEnv>;
  let notifyConfig: NotifyConfig;
  let keyring: Keyring | null;
  try {
    parsed = parseWorkerArgs(opts.argv, opts.env);
    if (parsed.help) {
      out(`${WORKER_USAGE}\n`);
      return 0;
    }
    engineConfig = configFromEnv(parsed.engineEnv);
    if (engineConfig.connection.kind !== "tcp") {
      throw new UsageError("the worker needs WORKSTREAM_REDIS_URL (redis:// or rediss://): it blocks on TCP, which Upstash's REST API cannot do");
    }
    notifyConfig = notifyConfigFromEnv(parsed.engineEnv);
    const keys = parsed.engineEnv[ENCRYPTION_KEYS_ENV];
    keyring = keys ? parseKeyring(keys, ENCRYPTION_KEYS_ENV) : null;
  } catch (e) {
    if (e instanceof UsageError || e instanceof ConfigError) {
      errLine(`workstream worker: ${e.message}`);
      return 2;
    }
    errLine(`workstream worker: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
  const { config } = parsed;
  const logger = jsonLogger({ level: (config.logLevel ?? "info") as LogLevel, write: out });

  let handler: JobHandler;
  try {
    handler = await loadHandler(config.handler);
  } catch (e) {
    errLine(`workstream worker: ${e instanceof UsageError ? e.message : `could not load handler ${config.handler}: ${e instanceof Error ? e.message : String(e)}`}`);
    return e instanceof UsageError ? 2 : 1;
  }

  const url = engineConfig.connection.url;
  const port = tcpPort(url);
  let lastConnectionError: string | null = null;
  port.client.on("error", (e: Error) => {
    lastConnectionError = e.message;
    logger.warn("redis connection error", { error: e.message });
  });
  port.client.on("reconnecting", (delayMs: number) => logger.warn("redis reconnecting", { delayMs }));
  let worker: Worker;
  try {
    const engine = new Engine({ redis: port, settings: engineConfig.settings });
    const notify = createNotifyContext({ config: notifyConfig, jobs: engine, queueNames: engine.queues.ordered.map((q) => q.name) });
    worker = new Worker({
      engine,
      redis: port,
      handler,
      ...(config.queues ? { queues: config.queues } : {}),
      ...(config.permissionLevels ? { permissionLevels: config.permissionLevels } : {}),
      ...(config.concurrency ? { concurrency: config.concurrency } : {}),
      ...(config.prefetch !== undefined ? { prefetch: config.prefetch } : {}),
      ...(config.workerId ? { workerId: config.workerId } : {}),
      shutdownGraceMs: config.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS,
      logger,
      openBlocking: () => tcpPort(url),
      notify,
      keyring,
    });
  } catch (e) {
    errLine(`workstream worker: ${e instanceof Error ? e.message : String(e)}`);
    port.client.disconnect();
    return 2;
  }

  try {
    await worker.start();
  } catch (e) {
    // ioredis gives up with "max retries per request"; the connection error says why.
    const why = lastConnectionError ?? (e instanceof Error ? e.message : String(e));
    errLine(`workstream worker: could not register with Redis at ${redisAddress(url)}: ${why}`);
    port.client.disconnect();
    return 1;
  }

  return new Promise<number>((resolveExit) => {
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      signals++;
      if (signals === 1) {
        logger.info("signal received: stopping gracefully", { signal });
        setTimeout(() => {
          errLine("workstream worker: shutdown did not finish in time; exiting");
          resolveExit(1);
        }, (config.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS) + FAILSAFE_MS).unref();
        void worker.stop().then(() => {
          port.client.disconnect();
          resolveExit(0);
        });
      } else {
        logger.info("second signal: releasing in-flight jobs now", { signal });
        void worker.stop();
      }
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
  });
}
