import { spawn, type ChildProcess } from "node:child_process";
import { accessSync, constants, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { freePort } from "./free-port.ts";

/** Options for {@link startRedisServer}. Every field is optional. */
export interface RedisServerOptions {
  /** TCP port on 127.0.0.1. Default: a free port chosen by the OS. */
  port?: number;
  /** `--appendonly yes` with `--appendfsync always`, so every acknowledged write survives a restart. Default: false. */
  appendOnly?: boolean;
  /** Data directory (AOF lives here). Default: a private temp dir, removed by `stop()`. */
  dir?: string;
  /** `--requirepass`. Default: none. Note: visible in the local process list; test use only. */
  password?: string;
}

/** A running private redis-server. `pid` changes on `restart()`; `port`, `dir` and `url` do not. */
export interface RedisServerHandle {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  readonly dir: string;
  /** SIGTERM, then SIGKILL after a bound. Idempotent. Removes the data dir if it was a private temp dir. */
  stop(): Promise<void>;
  /** Stops and starts again on the same port and dir (data survives only with `appendOnly`). */
  restart(): Promise<void>;
}

const READY_TIMEOUT_MS = 10_000;
const PING_TIMEOUT_MS = 500;
const STOP_GRACE_MS = 5_000;
const KILL_WAIT_MS = 2_000;
const LOG_TAIL_CHARS = 8_000;
const PORT_ATTEMPTS = 3;

// Children still running and temp dirs we own: reaped synchronously if the parent exits
// without calling stop(), so a crashed test run leaves no orphaned redis-server behind.
const liveChildren = new Set<ChildProcess>();
const ownedDirs = new Set<string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const child of liveChildren) child.kill("SIGKILL");
    for (const dir of ownedDirs) rmSync(dir, { recursive: true, force: true });
  });
}

function findOnPath(bin: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, bin);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}

/** One spawned process plus what we need to report on it. */
interface Spawned {
  child: ChildProcess;
  exited: Promise<void>;
  log: () => string;
}

function spawnRedis(bin: string, args: string[]): Spawned {
  const child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
  // Keep only the tail of the server's output: enough to explain a failed start, never unbounded.
  let tail = "";
  const collect = (chunk: Buffer) => {
    tail = (tail + chunk.toString("utf8")).slice(-LOG_TAIL_CHARS);
  };
  // Always drain both pipes: a full pipe would block redis-server on its next log line.
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  child.on("error", (err) => collect(Buffer.from(`spawn error: ${err.message}\n`)));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  liveChildren.add(child);
  void exited.then(() => liveChildren.delete(child));
  return { child, exited, log: () => tail };
}

const hasExited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
/** Resolves true if `p` settles within `ms`; the timer is unref'd so it never holds the process open. */
const within = (p: Promise<void>, ms: number) =>
  Promise.race([p.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref())]);

/**
 * True once the server on `port` answers PING *and* is our child: another server already on the
 * port would otherwise answer for a child that is about to die with "address already in use".
 */
async function answersPing(port: number, password: string | undefined, pid: number | undefined): Promise<boolean> {
  const client = new Redis({
    host: "127.0.0.1",
    port,
    ...(password === undefined ? {} : { password }),
    lazyConnect: true,
    connectTimeout: PING_TIMEOUT_MS,
    commandTimeout: PING_TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null, // one attempt; waitReady owns the retry loop
  });
  client.on("error", () => {}); // failures are expected while the server boots
  try {
    await client.connect();
    if ((await client.ping()) !== "PONG") return false; // e.g. -LOADING while the AOF replays
    const info = await client.info("server");
    return new RegExp(`^process_id:${pid}\\r?$`, "m").test(info);
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

async function waitReady(spawned: Spawned, port: number, password: string | undefined): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (hasExited(spawned.child)) {
      throw new Error(`redis-server exited during start-up (code ${spawned.child.exitCode}):\n${spawned.log()}`);
    }
    if (await answersPing(port, password, spawned.child.pid)) return;
    await sleep(50);
  }
  await terminate(spawned);
  throw new Error(`redis-server did not answer PING on 127.0.0.1:${port} within ${READY_TIMEOUT_MS} ms:\n${spawned.log()}`);
}

async function terminate(spawned: Spawned): Promise<void> {
  const { child } = spawned;
  if (hasExited(child)) return;
  child.kill("SIGTERM");
  if (await within(spawned.exited, STOP_GRACE_MS)) return;
  child.kill("SIGKILL");
  if (!(await within(spawned.exited, KILL_WAIT_MS))) {
    throw new Error(`redis-server pid ${child.pid} did not exit after SIGKILL`);
  }
}

function serverArgs(port: number, dir: string, opts: RedisServerOptions): string[] {
  return [
    "--port", String(port),
    "--bind", "127.0.0.1",
    "--dir", dir,
    "--daemonize", "no",
    "--save", "", // no RDB snapshots: tests want speed, durability tests use AOF
    "--appendonly", opts.appendOnly ? "yes" : "no",
    ...(opts.appendOnly ? ["--appendfsync", "always"] : []),
    ...(opts.password === undefined ? [] : ["--requirepass", opts.password]),
  ];
}

/**
 * Starts a private `redis-server` (from PATH) on 127.0.0.1 and waits until it answers PING.
 *
 * @example
 * const redis = await startRedisServer({ appendOnly: true });
 * // ... connect to redis.url ...
 * await redis.restart(); // same port and dir; AOF data is still there
 * await redis.stop();
 */
export async function startRedisServer(opts: RedisServerOptions = {}): Promise<RedisServerHandle> {
  const bin = findOnPath("redis-server");
  if (bin === undefined) {
    throw new Error("redis-server not found on PATH: install it (Debian/Ubuntu: apt-get install -y redis-server)");
  }
  installExitHook();
  const ownsDir = opts.dir === undefined;
  const dir = opts.dir ?? mkdtempSync(path.join(os.tmpdir(), "workstream-redis-"));

  const launch = async (port: number): Promise<Spawned> => {
    mkdirSync(dir, { recursive: true }); // restart() after stop() recreates a removed private dir
    if (ownsDir) ownedDirs.add(dir);
    const spawned = spawnRedis(bin, serverArgs(port, dir, opts));
    await waitReady(spawned, port, opts.password);
    return spawned;
  };

  // freePort() can race with another process; retry with a new port only if we chose it.
  let port = opts.port ?? (await freePort());
  let active: Spawned | undefined;
  for (let attempt = 1; active === undefined; attempt++) {
    try {
      active = await launch(port);
    } catch (err) {
      const portTaken = err instanceof Error && /address already in use/i.test(err.message);
      if (!portTaken || opts.port !== undefined || attempt >= PORT_ATTEMPTS) {
        if (ownsDir) cleanupDir(dir);
        throw err;
      }
      port = await freePort();
    }
  }

  let current: Spawned = active;
  const auth = opts.password === undefined ? "" : `:${encodeURIComponent(opts.password)}@`;
  return {
    url: `redis://${auth}127.0.0.1:${port}`,
    port,
    dir,
    get pid() {
      return current.child.pid ?? -1;
    },
    async stop() {
      await terminate(current); // no-op once exited
      if (ownsDir) cleanupDir(dir);
    },
    async restart() {
      await terminate(current);
      current = await launch(port);
    },
  };
}

function cleanupDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  ownedDirs.delete(dir);
}
