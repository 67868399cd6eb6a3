/**
 * Workstream vs BullMQ on the same private redis-server: throughput, latency, cost per job in
 * Redis commands (what Upstash bills), idle cost, the HTTP path, and the machine's raw limit.
 *
 *   npm run bench                      full run (≈ 5–7 min on 2 cores), writes docs/benchmarks.md
 *                                      (between its bench markers) and docs/bench-throughput.svg
 *   npm run bench -- --quick           ≈ 1 min smoke run; results go to a temp dir, not docs/
 *   npm run bench -- --only=cost,idle  some sections: primitives, throughput, latency, cost, idle, http
 *
 * Everything runs on 127.0.0.1; every loop is bounded in count and time; servers, workers and
 * connections are stopped on exit, on failure and on SIGINT/SIGTERM.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { Engine, upstashPort } from "../packages/core/src/index.ts";
import { startRedisServer, startUpstashRest, type RedisServerHandle, type UpstashRestHandle } from "../packages/local/src/index.ts";
import { countCommands, type CommandCount } from "./command-costs.ts";
import { openBullmq } from "./bullmq.ts";
import {
  drain,
  enqueueBatches,
  enqueueSequential,
  RoundTripCounter,
  sleep,
  steadyLatency,
  trickle,
  until,
  type QueueSystem,
} from "./common.ts";
import {
  markdown,
  throughputSvg,
  targets,
  type CostResult,
  type CostScenario,
  type FillMode,
  type HttpResult,
  type IdleResult,
  type LatencyResult,
  type Machine,
  type PrimitiveResult,
  type Results,
  type SystemName,
  type ThroughputResult,
} from "./report.ts";
import { percentile } from "./stats.ts";
import { openWorkstream, portCalls, WS_QUEUE } from "./workstream.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const SECTIONS = ["primitives", "throughput", "latency", "cost", "idle", "http"] as const;
type Section = (typeof SECTIONS)[number];

// ── flags ──────────────────────────────────────────────────────────────────────────────────

const argv = process.argv.slice(2);
const quick = argv.includes("--quick");
const onlyArg = argv.find((a) => a.startsWith("--only="));
const only = onlyArg ? new Set(onlyArg.slice("--only=".length).split(",").filter(Boolean)) : null;
for (const s of only ?? []) if (!(SECTIONS as readonly string[]).includes(s)) throw new Error(`--only: unknown section "${s}" (one of ${SECTIONS.join(", ")})`);
const unknown = argv.filter((a) => a !== "--quick" && !a.startsWith("--only="));
if (unknown.length) throw new Error(`unknown arguments: ${unknown.join(" ")} (use --quick, --only=<section,...>)`);
const wants = (s: Section) => only === null || only.has(s);

const CFG = quick
  ? { n: 500, reps: 3, batch: 100, conc: [1, 10, 50], latRate: 200, latMs: 3_000, latRounds: 1, costN: 200, trickleN: 40, idleMs: 8_000, httpOps: 100, primN: 20_000, budgetMs: 4 * 60_000 }
  : { n: 3_000, reps: 5, batch: 100, conc: [1, 10, 50], latRate: 200, latMs: 10_000, latRounds: 2, costN: 1_000, trickleN: 200, idleMs: 60_000, httpOps: 500, primN: 100_000, budgetMs: 12 * 60_000 };

// ── lifecycle: everything we start is stopped on the way out ───────────────────────────────

const cleanups: Array<() => Promise<unknown>> = [];
let cleaning: Promise<void> | undefined;
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    for (const c of cleanups.reverse()) await Promise.race([c().catch(() => {}), sleep(8_000)]);
  })();
  return cleaning;
}
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.once(sig, () => {
    console.error(`\n${sig}: stopping servers and workers…`);
    void cleanup().finally(() => process.exit(130));
  });
}
const watchdog = setTimeout(() => {
  console.error(`bench exceeded its time budget of ${CFG.budgetMs / 1000} s; aborting`);
  void cleanup().finally(() => process.exit(2));
}, CFG.budgetMs);
watchdog.unref();

const log = (msg: string) => console.log(`[${((performance.now() - T0) / 1000).toFixed(1).padStart(6)} s] ${msg}`);
const T0 = performance.now();
let runSeq = 0;
const runId = () => `${Date.now().toString(36)}${(runSeq++).toString(36)}`;

const rt = RoundTripCounter.install();

async function adminFor(url: string): Promise<Redis> {
  const admin = new Redis(url, { maxRetriesPerRequest: 3 });
  admin.on("error", () => {}); // a stopped server: its admin connection is closed by then or at exit
  rt.ignore(admin);
  cleanups.push(() => admin.quit().catch(() => admin.disconnect()));
  await admin.ping();
  return admin;
}

async function serverCount(admin: Redis, fn: () => Promise<unknown>): Promise<CommandCount> {
  const c = await countCommands(admin, fn);
  // Our own admin calls (closing blocked connections) are not the systems' commands.
  for (const k of ["client|list", "client|unblock"]) {
    if (c.byCommand[k]) {
      c.total -= c.byCommand[k]!;
      delete c.byCommand[k];
    }
  }
  return c;
}

type Factory = (id: string) => Promise<QueueSystem>;

// ── sections ───────────────────────────────────────────────────────────────────────────────

function machine(): Machine {
  const read = (cmd: string, args: string[]) => {
    try {
      return execFileSync(cmd, args, { encoding: "utf8" }).trim();
    } catch {
      return "unknown";
    }
  };
  const cpuinfo = existsSync("/proc/cpuinfo") ? readFileSync("/proc/cpuinfo", "utf8") : "";
  const cpu = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? os.cpus()[0]?.model ?? "unknown";
  const pkg = (name: string) => (JSON.parse(readFileSync(path.join(ROOT, "node_modules", name, "package.json"), "utf8")) as { version: string }).version;
  return {
    date: new Date().toISOString(),
    nproc: Number(read("nproc", [])) || os.cpus().length,
    cpu,
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    node: process.version,
    redis: read("redis-server", ["--version"]).replace(/^Redis server v=(\S+).*/, "Redis $1"),
    bullmq: pkg("bullmq"),
    ioredis: pkg("ioredis"),
    upstashRedis: pkg("@upstash/redis"),
    loadStart: os.loadavg()[0]!,
    loadEnd: Number.NaN,
    mode: quick ? "quick" : only ? `partial (${[...only].join(", ")})` : "full",
    n: CFG.n,
    reps: CFG.reps,
  };
}

async function primitives(server: RedisServerHandle, admin: Redis): Promise<PrimitiveResult> {
  const sha = String(await admin.script("LOAD", "return 1"));
  const base = ["-h", "127.0.0.1", "-p", String(server.port), "-q", "-n", String(CFG.primN)];
  const run = (args: string[]) => execFileSync("redis-benchmark", [...base, ...args], { encoding: "utf8", timeout: 120_000 });
  const rows: PrimitiveResult["rows"] = [];
  const parse = (out: string, label?: string) => {
    for (const line of out.split(/\r|\n/)) {
      const m = /^(.+?): ([\d.]+) requests per second(?:, p50=([\d.]+) msec)?/.exec(line.trim());
      if (m) rows.push({ command: label ?? m[1]!, rps: Number(m[2]), p50: m[3] ?? "–" });
    }
  };
  parse(run(["-t", "set,get,zadd,hset,lpush"]));
  parse(run(["XADD", "bench:prim:stream", "*", "f", "v"]), "XADD s * f v");
  parse(run(["EVALSHA", sha, "0"]), "EVALSHA of `return 1`");
  await admin.flushall();
  return { requests: CFG.primN, rows };
}

async function throughput(admin: Redis, systems: Record<SystemName, Factory>): Promise<ThroughputResult> {
  const empty = () => ({ sequential: [] as number[], batch: [] as number[] });
  const drains = () => ({ sequential: {} as Record<string, number[]>, batch: {} as Record<string, number[]> });
  const res: ThroughputResult = {
    n: CFG.n,
    batchSize: CFG.batch,
    concurrencies: CFG.conc,
    enqueue: { Workstream: empty(), BullMQ: empty() },
    drain: { Workstream: drains(), BullMQ: drains() },
  };
  let cell = 0;
  for (let rep = 0; rep < CFG.reps; rep++) {
    for (const fill of ["sequential", "batch"] as FillMode[]) {
      for (const c of CFG.conc) {
        const order: SystemName[] = cell++ % 2 === 0 ? ["Workstream", "BullMQ"] : ["BullMQ", "Workstream"];
        const line: string[] = [];
        for (const name of order) {
          await admin.flushall();
          const sys = await systems[name](runId());
          try {
            const enqMs = fill === "sequential" ? await enqueueSequential(sys, CFG.n, 120_000) : await enqueueBatches(sys, CFG.n, CFG.batch, 120_000);
            const drainMs = await drain(sys, CFG.n, c, 120_000);
            const enqRate = (CFG.n / enqMs) * 1000;
            const drainRate = (CFG.n / drainMs) * 1000;
            res.enqueue[name][fill].push(enqRate);
            (res.drain[name][fill][String(c)] ??= []).push(drainRate);
            line.push(`${name} enq ${Math.round(enqRate)}/s drain ${Math.round(drainRate)}/s`);
          } finally {
            await sys.close();
          }
        }
        log(`throughput rep ${rep + 1} ${fill} c=${c}: ${line.join(" | ")}`);
      }
    }
  }
  await admin.flushall();
  return res;
}

async function latency(admin: Redis, systems: Record<SystemName, Factory>): Promise<LatencyResult> {
  const pooled: Record<SystemName, number[]> = { Workstream: [], BullMQ: [] };
  const runs: Record<SystemName, Array<{ p50: number; p99: number }>> = { Workstream: [], BullMQ: [] };
  const concurrency = 10;
  for (let round = 0; round < CFG.latRounds; round++) {
    const order: SystemName[] = round % 2 === 0 ? ["Workstream", "BullMQ"] : ["BullMQ", "Workstream"];
    for (const name of order) {
      await admin.flushall();
      const sys = await systems[name](runId());
      try {
        const lat = await steadyLatency(sys, CFG.latRate, CFG.latMs, concurrency);
        pooled[name].push(...lat);
        runs[name].push({ p50: percentile(lat, 50), p99: percentile(lat, 99) });
        log(`latency ${name} round ${round + 1}: p50 ${percentile(lat, 50).toFixed(2)} ms p99 ${percentile(lat, 99).toFixed(2)} ms (${lat.length} jobs)`);
      } finally {
        await sys.close();
      }
    }
  }
  await admin.flushall();
  const summary = (xs: number[], r: Array<{ p50: number; p99: number }>) => ({
    p50: percentile(xs, 50),
    p90: percentile(xs, 90),
    p99: percentile(xs, 99),
    max: percentile(xs, 100),
    count: xs.length,
    runs: r,
  });
  return {
    ratePerSec: CFG.latRate,
    durationMs: CFG.latMs,
    concurrency,
    samples: { Workstream: summary(pooled.Workstream, runs.Workstream), BullMQ: summary(pooled.BullMQ, runs.BullMQ) },
  };
}

async function cost(server: RedisServerHandle, admin: Redis, systems: Record<SystemName, Factory>): Promise<CostResult> {
  const scenario = async (jobs: number, fn: () => Promise<unknown>): Promise<CostScenario> => {
    rt.reset();
    const c = await serverCount(admin, fn);
    const trips = rt.count(server.port);
    return { jobs, serverCommands: c.total, byCommand: c.byCommand, trips: trips.trips, clientCommands: trips.commands };
  };
  const out = {} as CostResult["scenarios"];
  for (const name of ["Workstream", "BullMQ"] as const) {
    // Warm up: scripts loaded on the server (SCRIPT cache survives FLUSHALL), code paths JIT-ed.
    await admin.flushall();
    const warm = await systems[name](runId());
    await enqueueSequential(warm, 50, 30_000);
    await drain(warm, 50, 1, 30_000);
    await warm.close();

    // Pre-filled: N single adds, then a worker at concurrency 1 drains them (its start-up included).
    await admin.flushall();
    const sys = await systems[name](runId());
    let enqueue: CostScenario, drainC: CostScenario, enqueueBatch: CostScenario, trickleC: CostScenario;
    try {
      enqueue = await scenario(CFG.costN, () => enqueueSequential(sys, CFG.costN, 60_000));
      let stopWorker: (() => Promise<void>) | undefined;
      drainC = await scenario(CFG.costN, async () => {
        const w = await sys.startWorker({ concurrency: 1 });
        stopWorker = () => w.stop();
        await until(() => w.processed() >= CFG.costN, 60_000, `${name} cost drain`);
      });
      await stopWorker?.();
      enqueueBatch = await scenario(CFG.costN, () => enqueueBatches(sys, CFG.costN, 100, 60_000));
      // Trickle: an idle worker waits; one job at a time; the worker goes back to its idle wait between jobs.
      await admin.flushall();
      const w = await sys.startWorker({ concurrency: 1 });
      try {
        await sleep(500);
        trickleC = await scenario(CFG.trickleN, () => trickle(sys, w, CFG.trickleN, 25));
      } finally {
        await w.stop();
      }
    } finally {
      await sys.close();
    }
    out[name] = { enqueue, drain: drainC, enqueueBatch, trickle: trickleC };
    const pj = (s: CostScenario) => (s.serverCommands / s.jobs).toFixed(1);
    log(`cost ${name}: enqueue ${pj(enqueue)}, drain ${pj(drainC)}, batch enqueue ${pj(enqueueBatch)}, trickle ${pj(trickleC)} server commands per job; round trips/job pre-filled ${((enqueue.trips + drainC.trips) / CFG.costN).toFixed(2)}, trickle ${(trickleC.trips / CFG.trickleN).toFixed(2)}`);
  }
  // Workstream's maintenance tick on an idle system (3 default queues), as the every-minute reclaim
  // cron schedules it (runMaintenance, MAINTENANCE_DEFAULTS): the plain tick, the tick with the TTL
  // scan, and the tick with the scan and the trim.
  await admin.flushall();
  const ws = (await systems.Workstream(runId())) as QueueSystem & { engine: Engine };
  let tick: CostResult["tick"];
  try {
    await ws.engine.tick();
    const plain = await scenario(1, () => ws.engine.tick({ expire: false }));
    const expire = await scenario(1, () => ws.engine.tick());
    const trim = await scenario(1, () => ws.engine.tick({ trim: true, expire: true }));
    tick = { plain, expire, trim };
  } finally {
    await ws.close();
  }
  log(`cost tick: plain ${tick.plain.serverCommands}, with TTL scan ${tick.expire.serverCommands}, with trim ${tick.trim.serverCommands} commands`);
  await admin.flushall();
  return { scenarios: out, tick };
}

/**
 * Idle workers, measured side by side: each on its own private redis-server (commands are counted
 * per server, so they cannot mix), started together, counted over the same window after a settle.
 */
async function idle(): Promise<IdleResult> {
  const specs: Array<{ label: string; system: SystemName; open: (url: string, admin: Redis) => Promise<QueueSystem> }> = [
    { label: "Workstream worker", system: "Workstream", open: (url, admin) => openWorkstream(url, runId(), admin) },
    { label: "Workstream worker, all 3 default queues (Worker default)", system: "Workstream", open: (url, admin) => openWorkstream(url, runId(), admin, { workerQueues: [] }) },
    { label: "BullMQ worker", system: "BullMQ", open: (url) => openBullmq(url, runId()) },
  ];
  const rows = await Promise.all(
    specs.map(async (spec) => {
      const server = await startRedisServer();
      cleanups.push(() => server.stop());
      const admin = await adminFor(server.url);
      const sys = await spec.open(server.url, admin);
      const w = await sys.startWorker({ concurrency: 1 });
      try {
        await sleep(1_500);
        const before = rt.count(server.port);
        const c = await serverCount(admin, () => sleep(CFG.idleMs));
        const after = rt.count(server.port);
        return { label: spec.label, system: spec.system, serverCommands: c.total, byCommand: c.byCommand, trips: after.trips - before.trips };
      } finally {
        await w.stop();
        await sys.close();
        await admin.quit().catch(() => admin.disconnect());
        await server.stop();
      }
    }),
  );
  for (const r of rows) log(`idle ${r.label}: ${r.serverCommands} commands, ${r.trips} round trips in ${CFG.idleMs / 1000} s`);
  return { windowMs: CFG.idleMs, rows };
}

async function http(server: RedisServerHandle, admin: Redis): Promise<HttpResult> {
  await admin.flushall();
  const rest: UpstashRestHandle = await startUpstashRest({ redisUrl: server.url, token: "bench-token" });
  cleanups.push(() => rest.close());
  const port = upstashPort(rest.url, rest.token);
  const engine = new Engine({ redis: port, settings: { keyPrefix: `http${runId()}:` } });
  const rows: HttpResult["rows"] = [];
  try {
    // Warm up (scripts are already in the server's cache from the other sections, or get loaded here).
    for (let i = 0; i < 20; i++) {
      const { id } = await engine.enqueue({ queue: WS_QUEUE, payload: { i } });
      const c = await engine.claim({ workerId: "http-bench", queues: [WS_QUEUE] });
      if (c.status === "claimed") await engine.ack(c.job.id, c.lease.token, null);
      await engine.getJob(id);
    }
    const ids: string[] = [];
    const leases: Array<{ id: string; token: number }> = [];
    const measure = async (op: string, fn: (i: number) => Promise<void>) => {
      const lat: number[] = [];
      const reqBefore = Object.values(rest.stats.requests).reduce((a, b) => a + b, 0);
      const cmdBefore = rest.stats.commands;
      const c = await serverCount(admin, async () => {
        const deadline = performance.now() + 60_000;
        for (let i = 0; i < CFG.httpOps; i++) {
          const t = performance.now();
          await fn(i);
          lat.push(performance.now() - t);
          if (t > deadline) throw new Error(`http ${op} exceeded 60 s`);
        }
      });
      const reqs = Object.values(rest.stats.requests).reduce((a, b) => a + b, 0) - reqBefore;
      rows.push({
        op,
        p50: percentile(lat, 50),
        p99: percentile(lat, 99),
        requestsPerOp: reqs / CFG.httpOps,
        restCommandsPerOp: (rest.stats.commands - cmdBefore) / CFG.httpOps,
        serverCommandsPerOp: c.total / CFG.httpOps,
      });
    };
    await measure("enqueue", async (i) => void ids.push((await engine.enqueue({ queue: WS_QUEUE, payload: { i } })).id));
    await measure("claim", async () => {
      const c = await engine.claim({ workerId: "http-bench", queues: [WS_QUEUE] });
      if (c.status !== "claimed") throw new Error("http claim: queue unexpectedly empty");
      leases.push({ id: c.job.id, token: c.lease.token });
    });
    await measure("ack", async (i) => void (await engine.ack(leases[i]!.id, leases[i]!.token, { ok: true })));
    await measure("getJob", async (i) => void (await engine.getJob(ids[i]!)));
    await measure("claim, nothing to do (1 queue)", async () => {
      const c = await engine.claim({ workerId: "http-bench", queues: [WS_QUEUE] });
      if (c.status !== "empty") throw new Error("http claim: expected an empty queue");
    });
  } finally {
    await rest.close();
  }
  for (const r of rows) log(`http ${r.op}: p50 ${r.p50.toFixed(2)} ms p99 ${r.p99.toFixed(2)} ms, ${r.requestsPerOp.toFixed(2)} requests/op, ${r.serverCommandsPerOp.toFixed(1)} server commands/op`);
  await admin.flushall();
  return { ops: CFG.httpOps, rows };
}

// ── main ───────────────────────────────────────────────────────────────────────────────────

async function main(): Promise<number> {
  const results: Results = { machine: machine(), durationMs: 0, notes: [] };
  log(`bench ${results.machine.mode}: N=${CFG.n}, ${CFG.reps} reps, concurrencies ${CFG.conc.join("/")}`);
  const server = await startRedisServer();
  cleanups.push(() => server.stop());
  const admin = await adminFor(server.url);
  const systems: Record<SystemName, Factory> = {
    Workstream: (id) => openWorkstream(server.url, id, admin),
    BullMQ: (id) => openBullmq(server.url, id),
  };
  if (wants("primitives")) results.primitives = await primitives(server, admin);
  if (results.primitives) for (const r of results.primitives.rows) log(`redis-benchmark ${r.command}: ${Math.round(r.rps)}/s`);
  if (wants("throughput")) results.throughput = await throughput(admin, systems);
  if (wants("latency")) results.latency = await latency(admin, systems);
  if (wants("cost")) results.cost = await cost(server, admin, systems);
  if (wants("http")) results.http = await http(server, admin);
  if (wants("idle")) results.idle = await idle();
  portCalls.reset();

  results.durationMs = performance.now() - T0;
  results.machine.loadEnd = os.loadavg()[0]!;
  results.notes.push(
    "Same machine, same redis-server, same N, fresh key prefix and queue name per run, FLUSHALL between runs; Workstream and BullMQ runs alternate (W, B, B, W…).",
    "Both workers consume one queue: Workstream's Worker is given `queues: [\"default\"]`; everything else is each library's default (Workstream: tcpPort with ioredis auto-pipelining, 60 s lease, group commit of acks with the next claims in the same call, auto prefetch — with these no-op handlers the worker keeps up to max(16, concurrency) claimed jobs in hand beyond its concurrency; it would keep none for jobs over a second —, 60 s registry beat, 60 s idle wait renewed without re-claiming, a safety claim every 5 min; BullMQ: drainDelay 5 s, stalledInterval 30 s, lockDuration 30 s).",
    "Server commands are counted by redis-server (CONFIG RESETSTAT, then INFO commandstats), so commands run inside Lua scripts count, as Upstash bills them. Round trips are counted at the ioredis `sendCommand` of every connection each system opens (duplicates included); a pipeline or MULTI is one round trip.",
    "Cost windows: the pre-filled drain includes the worker's start-up (registration, connection set-up), spread over the jobs; the trickle window starts with the worker already idle and covers add → completion → back to its idle wait, 25 ms apart.",
    "Idle: each system on its own private redis-server, measured over the same window in parallel (commands are counted per server). Latency: payload carries `performance.now()` at enqueue; the handler subtracts it on the same process clock.",
  );
  if (quick) results.notes.push(`Quick mode: small N and short windows. The ${CFG.idleMs / 1000} s idle window is shorter than Workstream's 30 s wait and both systems' 30 s periodic tasks, so its idle figures are not meaningful; use the full run.`);
  const md = markdown(results);
  console.log(`\n${md}\n`);
  const tg = targets(results);
  const full = !quick && only === null;
  const outDir = full ? path.join(ROOT, "docs") : mkdtempSync(path.join(os.tmpdir(), "workstream-bench-"));
  mkdirSync(outDir, { recursive: true });
  if (full) {
    writeMarkedSection(path.join(outDir, "benchmarks.md"), md);
    if (results.throughput) writeFileSync(path.join(outDir, "bench-throughput.svg"), throughputSvg(results.throughput, results.machine));
    // The raw numbers stay out of docs/: keep them next to the bench.
    writeFileSync(path.join(ROOT, "bench", "last-results.json"), JSON.stringify(results, null, 2));
  } else {
    writeFileSync(path.join(outDir, "bench-results.json"), JSON.stringify(results, null, 2));
    writeFileSync(path.join(outDir, "benchmarks.md"), md);
    if (results.throughput) writeFileSync(path.join(outDir, "bench-throughput.svg"), throughputSvg(results.throughput, results.machine));
  }
  log(`wrote ${full ? "docs/benchmarks.md, docs/bench-throughput.svg, bench/last-results.json" : outDir}; targets: ${tg.filter((t) => t.pass).length} PASS, ${tg.filter((t) => !t.pass).length} MISS`);
  return 0;
}

const BEGIN = "<!-- bench:begin (generated by `npm run bench`; text outside these markers is kept) -->";
const END = "<!-- bench:end -->";

/** Replaces the generated part of docs/benchmarks.md, keeping hand-written text around it. */
function writeMarkedSection(file: string, md: string): void {
  const block = `${BEGIN}\n\n${md}\n\n${END}`;
  if (!existsSync(file)) {
    writeFileSync(file, `# Benchmarks: Workstream vs BullMQ\n\n${block}\n`);
    return;
  }
  const cur = readFileSync(file, "utf8");
  const a = cur.indexOf("<!-- bench:begin");
  const b = cur.indexOf(END);
  writeFileSync(file, a >= 0 && b > a ? cur.slice(0, a) + block + cur.slice(b + END.length) : `${cur.trimEnd()}\n\n${block}\n`);
}

let code = 1;
try {
  code = await main();
} catch (e) {
  console.error("bench failed:", e);
  code = 1;
} finally {
  await cleanup();
  clearTimeout(watchdog);
}
process.exit(code);
