/**
 * Helpers for tests that run the real worker process (`packages/worker/src/main.ts` through tsx)
 * and the real CLI binary as child processes.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import path from "node:path";
import { afterAll } from "vitest";

export const ROOT = path.resolve(import.meta.dirname, "..", "..");
export const WORKER_MAIN = path.join(ROOT, "packages", "worker", "src", "main.ts");
export const CLI_BIN = path.join(ROOT, "packages", "cli", "bin", "workstream.mjs");
export const HANDLER = path.join(ROOT, "test", "worker", "fixtures", "handler.ts");

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `check` until it returns a truthy value: at most `timeoutMs` and `timeoutMs / intervalMs` tries. */
export async function waitFor<T>(what: string, check: () => Promise<T> | T, opts: { timeoutMs?: number; intervalMs?: number } = {}): Promise<NonNullable<T>> {
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const intervalMs = opts.intervalMs ?? 50;
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (let i = 0; i <= timeoutMs / intervalMs && Date.now() <= deadline; i++) {
    last = await check();
    if (last) return last as NonNullable<T>;
    await sleep(intervalMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${JSON.stringify(last)})`);
}

export interface WorkerProc {
  child: ChildProcess;
  readonly pid: number;
  /** Lines written to stdout (JSON logs) and stderr. */
  lines: string[];
  stderr: () => string;
  /** Resolves when the worker logged "worker started". */
  ready: Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL if still running; resolves once it has exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

const live = new Set<ChildProcess>();
afterAll(() => {
  for (const c of live) c.kill("SIGKILL");
});

/** Starts a worker process with the given environment (merged over a minimal one) and flags. */
export function spawnWorker(env: Record<string, string>, args: string[] = []): WorkerProc {
  const child = spawn(process.execPath, ["--import", "tsx", WORKER_MAIN, ...args], {
    cwd: ROOT,
    env: { PATH: process.env["PATH"] ?? "", WORKSTREAM_HANDLER: HANDLER, WORKSTREAM_WORKER_ID: `w-${randomUUID().slice(0, 8)}`, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  live.add(child);
  const lines: string[] = [];
  let err = "";
  let resolveReady!: () => void;
  let rejectReady!: (e: Error) => void;
  const ready = new Promise<void>((res, rej) => ((resolveReady = res), (rejectReady = rej)));
  ready.catch(() => {});
  let buf = "";
  child.stdout!.on("data", (chunk: Buffer) => {
    buf += chunk.toString("utf8");
    let i: number;
    while ((i = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (lines.length < 20_000) lines.push(line);
      if (line.includes('"worker started"')) resolveReady();
    }
  });
  child.stderr!.on("data", (chunk: Buffer) => {
    err = (err + chunk.toString("utf8")).slice(-20_000);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
    child.once("exit", (code, signal) => {
      live.delete(child);
      rejectReady(new Error(`worker exited before it started (code ${code}, signal ${signal}): ${err}`));
      res({ code, signal });
    }),
  );
  return {
    child,
    get pid() {
      return child.pid ?? -1;
    },
    lines,
    stderr: () => err,
    ready,
    exited,
    async kill(signal: NodeJS.Signals = "SIGKILL") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

/** Resolves what `p` resolves, or rejects after `ms`. */
export async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, rej) => (t = setTimeout(() => rej(new Error(`${what}: not within ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(t);
  }
}

/** Runs the real `workstream` binary; resolves its exit code and output. */
export function runCli(args: string[], env: Record<string, string>, opts: { bin?: string; timeoutMs?: number } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [opts.bin ?? CLI_BIN, ...args], { cwd: ROOT, env: { PATH: process.env["PATH"] ?? "", ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
    const t = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`workstream ${args.join(" ")} did not finish within ${timeoutMs} ms: ${stderr}`));
    }, timeoutMs);
    child.once("exit", (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
  });
}
