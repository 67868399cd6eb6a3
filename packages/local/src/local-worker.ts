/**
 * A worker process of the local stack: the real worker entry (packages/worker/src/main.ts, through
 * tsx, as `npx workstream worker` runs it), so local runs exercise the same code as Fargate tasks.
 * Its JSON log lines are passed on prefixed with its id; stop() sends SIGTERM (a graceful drain)
 * and SIGKILL if it has not exited in time.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const MAIN_IN_REPO = path.join("packages", "worker", "src", "main.ts");

/** The repository root: the nearest directory up from this module (or the CLI bundle) holding the worker entry. */
function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    if (existsSync(path.join(dir, MAIN_IN_REPO))) return dir;
    dir = path.dirname(dir);
  }
  throw new Error(`local workers need the Workstream repository (${MAIN_IN_REPO} not found above ${fileURLToPath(import.meta.url)})`);
}
/** How long a stopping worker may drain before it is killed. */
const STOP_GRACE_MS = 5_000;

export interface LocalWorkerOptions {
  id: string;
  /** The handler module, absolute or relative to the repository root. */
  handler: string;
  concurrency: number;
  /** Variables for the worker (empty values are left out). */
  env: Record<string, string>;
  log: (line: string) => void;
}

export interface LocalWorker {
  stop(): Promise<void>;
}

/** Starts the worker and resolves once it has registered, or rejects with its error output. */
export function startLocalWorker(opts: LocalWorkerOptions): Promise<LocalWorker> {
  const ROOT = repoRoot();
  const WORKER_MAIN = path.join(ROOT, MAIN_IN_REPO);
  const env: Record<string, string> = { PATH: process.env["PATH"] ?? "", HOME: process.env["HOME"] ?? "" };
  for (const [k, v] of Object.entries(opts.env)) if (v !== "") env[k] = v;
  Object.assign(env, {
    WORKSTREAM_HANDLER: path.resolve(ROOT, opts.handler),
    WORKSTREAM_WORKER_ID: opts.id,
    WORKSTREAM_CONCURRENCY: String(opts.concurrency),
    WORKSTREAM_SHUTDOWN_GRACE_MS: String(STOP_GRACE_MS - 1_000),
  });
  const child = spawn(process.execPath, ["--import", "tsx", WORKER_MAIN], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  let stderr = "";
  return new Promise<LocalWorker>((resolve, reject) => {
    let started = false;
    let buf = "";
    child.stdout.on("data", (chunk: Buffer) => {
      buf += chunk.toString("utf8");
      let i: number;
      while ((i = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        opts.log(`[${opts.id}] ${line}`);
        if (!started && line.includes('"worker started"')) {
          started = true;
          resolve({
            async stop() {
              if (child.exitCode !== null) return;
              child.kill("SIGTERM");
              const timer = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
              await exited;
              clearTimeout(timer);
            },
          });
        }
      }
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString("utf8")).slice(-4_000);
    });
    void exited.then((code) => {
      if (!started) reject(new Error(`worker ${opts.id} exited (${code}) before it started: ${stderr.trim() || "no output"}`));
      else if (code !== 0) opts.log(`[${opts.id}] exited with code ${code}: ${stderr.trim().split("\n").at(-1) ?? ""}`);
    });
  });
}
