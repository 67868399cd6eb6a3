/**
 * Renders the benchmark results: markdown tables with the targets (PASS/MISS), and a hand-written
 * SVG of drain throughput by concurrency (grouped bars with labels).
 */
import { spread, type Spread } from "./stats.ts";
import { MAINTENANCE_DEFAULTS } from "../packages/core/src/index.ts";

export const PRICE_PER_100K = 0.2;
export const PRICE_NOTE =
  "Upstash pay-as-you-go: $0.2 per 100K commands, as listed on upstash.com/pricing, checked 2026-11-23 from the project's notes; verify before relying on it";
const MINUTES_PER_MONTH = 30 * 24 * 60;

export type SystemName = "Workstream" | "BullMQ";
export type FillMode = "sequential" | "batch";

export interface Machine {
  date: string;
  nproc: number;
  cpu: string;
  memory: string;
  node: string;
  redis: string;
  bullmq: string;
  ioredis: string;
  upstashRedis: string;
  mode: string;
  /** 1-minute load average at the start and at the end of the run (other processes share the machine). */
  loadStart: number;
  loadEnd: number;
  n: number;
  reps: number;
}

export interface ThroughputResult {
  n: number;
  batchSize: number;
  /** Enqueue jobs/s per system and fill mode, one value per run. */
  enqueue: Record<SystemName, Record<FillMode, number[]>>;
  /** Drain jobs/s per system, fill mode and concurrency (key = concurrency), one value per run. */
  drain: Record<SystemName, Record<FillMode, Record<string, number[]>>>;
  concurrencies: number[];
}

export interface LatencyResult {
  ratePerSec: number;
  durationMs: number;
  concurrency: number;
  /** Per system: all samples pooled over its runs (ms), and per-run p50/p99. */
  samples: Record<SystemName, { p50: number; p90: number; p99: number; max: number; count: number; runs: Array<{ p50: number; p99: number }> }>;
}

export interface CostScenario {
  jobs: number;
  /** Server-executed commands (INFO commandstats), total and by command. */
  serverCommands: number;
  byCommand: Record<string, number>;
  /** Client round trips / commands sent (wire level). */
  trips: number;
  clientCommands: number;
}

export interface CostResult {
  /** Per system: pre-filled enqueue window, pre-filled drain window, pre-filled batch-enqueue window, trickle window. */
  scenarios: Record<SystemName, { enqueue: CostScenario; drain: CostScenario; enqueueBatch: CostScenario; trickle: CostScenario }>;
  /** Workstream's maintenance tick, idle: commands of one tick without and with trimming. */
  tick: { plain: CostScenario; expire: CostScenario; trim: CostScenario };
}

export interface IdleResult {
  windowMs: number;
  rows: Array<{ label: string; system: SystemName; serverCommands: number; byCommand: Record<string, number>; trips: number }>;
}

export interface HttpResult {
  ops: number;
  rows: Array<{ op: string; p50: number; p99: number; requestsPerOp: number; restCommandsPerOp: number; serverCommandsPerOp: number }>;
}

export interface PrimitiveResult {
  requests: number;
  rows: Array<{ command: string; rps: number; p50: string }>;
}

export interface Results {
  machine: Machine;
  throughput?: ThroughputResult;
  latency?: LatencyResult;
  cost?: CostResult;
  idle?: IdleResult;
  http?: HttpResult;
  primitives?: PrimitiveResult;
  durationMs: number;
  notes: string[];
}

// ── helpers ────────────────────────────────────────────────────────────────────────────────


const f0 = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString("en-US") : "–");
const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : "–");
const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : "–");
const usd = (x: number) => (Number.isFinite(x) ? `$${x < 1 ? x.toFixed(3) : x.toFixed(2)}` : "–");
const spreadCell = (s: Spread) => `${f0(s.median)} (${f0(s.min)}–${f0(s.max)})`;
const ratio = (a: number, b: number) => a / b;
const perJob = (c: CostScenario, field: "serverCommands" | "trips" | "clientCommands") => c[field] / c.jobs;
const dollarsPerMillionJobs = (cmdsPerJob: number) => (cmdsPerJob * 1_000_000 * PRICE_PER_100K) / 100_000;
const dollarsPerIdleMonth = (cmdsPerMinute: number) => (cmdsPerMinute * MINUTES_PER_MONTH * PRICE_PER_100K) / 100_000;

export interface Target {
  name: string;
  goal: string;
  measured: string;
  pass: boolean;
  /** How far off, when missed. */
  gap: string;
}

/** Lifecycle commands per job (enqueue + claim + ack), pre-filled and trickle. */
export function lifecycle(c: CostResult, s: SystemName) {
  const sc = c.scenarios[s];
  const prefilled = perJob(sc.enqueue, "serverCommands") + perJob(sc.drain, "serverCommands");
  const prefilledTrips = perJob(sc.enqueue, "trips") + perJob(sc.drain, "trips");
  return {
    prefilled,
    prefilledTrips,
    batchPrefilled: perJob(sc.enqueueBatch, "serverCommands") + perJob(sc.drain, "serverCommands"),
    batchPrefilledTrips: perJob(sc.enqueueBatch, "trips") + perJob(sc.drain, "trips"),
    trickle: perJob(sc.trickle, "serverCommands"),
    trickleTrips: perJob(sc.trickle, "trips"),
  };
}

export function idlePerMinute(r: IdleResult, label: string): { commands: number; trips: number } {
  const row = r.rows.find((x) => x.label === label);
  if (!row) return { commands: Number.NaN, trips: Number.NaN };
  return { commands: (row.serverCommands * 60_000) / r.windowMs, trips: (row.trips * 60_000) / r.windowMs };
}

/** Workstream's maintenance: one tick a minute, as runMaintenance schedules the TTL scan and the trim. */
export function tickPerMinute(c: CostResult): number {
  const { trimEveryMinutes: trim, expireEveryMinutes: expire } = MAINTENANCE_DEFAULTS;
  const trims = 1; // per `trim` minutes (the trim minute also scans: trim is a multiple of expire)
  const scans = trim / expire - trims;
  const plain = trim - scans - trims;
  return (plain * c.tick.plain.serverCommands + scans * c.tick.expire.serverCommands + trims * c.tick.trim.serverCommands) / trim;
}

export function targets(r: Results): Target[] {
  const out: Target[] = [];
  const t = r.throughput;
  if (t) {
    for (const fill of ["sequential", "batch"] as const) {
      for (const c of t.concurrencies) {
        const w = spread(t.drain.Workstream[fill][String(c)] ?? []).median;
        const b = spread(t.drain.BullMQ[fill][String(c)] ?? []).median;
        const x = ratio(w, b);
        out.push({
          name: `drain throughput, c=${c}, ${fill} fill`,
          goal: "≥ 2× BullMQ",
          measured: `${f2(x)}× (${f0(w)} vs ${f0(b)} jobs/s)`,
          pass: x >= 2,
          gap: x >= 2 ? "" : `${f0((2 - x) / 2 * 100)} % short of 2× (needs ${f0(2 * b)} jobs/s)`,
        });
      }
      const we = spread(t.enqueue.Workstream[fill]).median;
      const be = spread(t.enqueue.BullMQ[fill]).median;
      const xe = ratio(we, be);
      out.push({
        name: `enqueue throughput, ${fill}`,
        goal: "≥ 2× BullMQ",
        measured: `${f2(xe)}× (${f0(we)} vs ${f0(be)} jobs/s)`,
        pass: xe >= 2,
        gap: xe >= 2 ? "" : `${f0((2 - xe) / 2 * 100)} % short of 2×`,
      });
    }
  }
  const l = r.latency;
  if (l) {
    for (const p of ["p50", "p99"] as const) {
      const w = l.samples.Workstream[p];
      const b = l.samples.BullMQ[p];
      const x = ratio(w, b);
      out.push({
        name: `enqueue → start latency ${p}`,
        goal: "≤ ½ BullMQ",
        measured: `${f2(x)}× (${f2(w)} vs ${f2(b)} ms)`,
        pass: x <= 0.5,
        gap: x <= 0.5 ? "" : `${f2(x / 0.5)}× the target (needs ≤ ${f2(b / 2)} ms)`,
      });
    }
  }
  const c = r.cost;
  if (c) {
    const w = lifecycle(c, "Workstream");
    const b = lifecycle(c, "BullMQ");
    for (const [name, wv, bv] of [
      ["server commands per job, pre-filled", w.prefilled, b.prefilled],
      ["server commands per job, trickle", w.trickle, b.trickle],
    ] as const) {
      const x = ratio(wv, bv);
      out.push({
        name,
        goal: "≤ ¼ BullMQ",
        measured: `${f2(x)}× (${f1(wv)} vs ${f1(bv)})`,
        pass: x <= 0.25,
        gap: x <= 0.25 ? "" : `${f2(x / 0.25)}× the target (needs ≤ ${f1(bv / 4)})`,
      });
    }
    for (const [name, wv, bv] of [
      ["client round trips per job, pre-filled", w.prefilledTrips, b.prefilledTrips],
      ["client round trips per job, trickle", w.trickleTrips, b.trickleTrips],
    ] as const) {
      out.push({
        name,
        goal: "≤ BullMQ",
        measured: `${f2(wv)} vs ${f2(bv)}`,
        pass: wv <= bv + 1e-9,
        gap: wv <= bv + 1e-9 ? "" : `+${f2(wv - bv)} per job (${f0((wv / bv - 1) * 100)} % more)`,
      });
    }
  }
  const i = r.idle;
  if (i && c) {
    const w = idlePerMinute(i, "Workstream worker").commands + tickPerMinute(c);
    const b = idlePerMinute(i, "BullMQ worker").commands;
    const x = ratio(w, b);
    out.push({
      name: "idle commands per minute (worker + maintenance)",
      goal: "≤ 1/10 BullMQ",
      measured: `${f2(x)}× (${f1(w)} vs ${f1(b)})`,
      pass: x <= 0.1,
      gap: x <= 0.1 ? "" : `${f1(x / 0.1)}× the target (needs ≤ ${f1(b / 10)}/min)`,
    });
  }
  return out;
}

const topCommands = (by: Record<string, number>, jobs: number, k = 12) =>
  Object.entries(by)
    .sort((a, b) => b[1] - a[1])
    .slice(0, k)
    .map(([name, n]) => `${name} ${f2(n / jobs)}`)
    .join(", ");

// ── markdown ───────────────────────────────────────────────────────────────────────────────

export function markdown(r: Results): string {
  const m = r.machine;
  const L: string[] = [];
  L.push(`Run: ${m.date}, mode **${m.mode}**, whole run ${f0(r.durationMs / 1000)} s (\`npm run bench\`).`);
  L.push("");
  L.push(`Machine: ${m.nproc} cores (\`nproc\`), ${m.cpu}, ${m.memory} RAM; Node ${m.node}; ${m.redis}; bullmq ${m.bullmq}; ioredis ${m.ioredis}; @upstash/redis ${m.upstashRedis}; load average (1 min) ${m.loadStart.toFixed(2)} at the start, ${m.loadEnd.toFixed(2)} at the end${Math.max(m.loadStart, m.loadEnd) > m.nproc / 2 ? " — **other processes were using this machine during the run: expect wide spreads**" : ""}. One private redis-server on 127.0.0.1 (\`--save '' --appendonly no\`), started by the bench; loopback only.`);
  L.push("");
  const tg = targets(r);
  if (tg.length) {
    L.push("### Targets");
    L.push("");
    L.push("| target | goal | measured (Workstream vs BullMQ) | result |");
    L.push("|---|---|---|---|");
    for (const t of tg) L.push(`| ${t.name} | ${t.goal} | ${t.measured} | ${t.pass ? "PASS" : `**MISS** — ${t.gap}`} |`);
    L.push("");
  }
  const t = r.throughput;
  if (t) {
    L.push(`### Throughput (N = ${f0(t.n)} jobs per run, ${m.reps} runs per cell alternating W/B, median (min–max) jobs/s)`);
    L.push("");
    L.push("| phase | Workstream | BullMQ | ratio W/B |");
    L.push("|---|---|---|---|");
    for (const fill of ["sequential", "batch"] as const) {
      const w = spread(t.enqueue.Workstream[fill]);
      const b = spread(t.enqueue.BullMQ[fill]);
      const label = fill === "sequential" ? "enqueue, sequential single adds" : `enqueue, batches of ${t.batchSize} (enqueueBatch / addBulk)`;
      L.push(`| ${label} | ${spreadCell(w)} | ${spreadCell(b)} | ${f2(w.median / b.median)} |`);
    }
    for (const fill of ["sequential", "batch"] as const) {
      for (const c of t.concurrencies) {
        const w = spread(t.drain.Workstream[fill][String(c)] ?? []);
        const b = spread(t.drain.BullMQ[fill][String(c)] ?? []);
        L.push(`| drain, concurrency ${c} (after ${fill} fill) | ${spreadCell(w)} | ${spreadCell(b)} | ${f2(w.median / b.median)} |`);
      }
    }
    L.push("");
    L.push("Drain = worker start → N-th job completed (acked / moved to completed), no-op handler. Workstream keeps each completed record for its queue's result TTL (1 day on `default`); BullMQ runs with `removeOnComplete: true`.");
    L.push("");
  }
  const l = r.latency;
  if (l) {
    L.push(`### Latency: enqueue → handler start (${l.ratePerSec} jobs/s for ${l.durationMs / 1000} s, one producer, worker concurrency ${l.concurrency}, ms)`);
    L.push("");
    L.push("| system | p50 | p90 | p99 | max | samples | per-run p50 / p99 |");
    L.push("|---|---|---|---|---|---|---|");
    for (const s of ["Workstream", "BullMQ"] as const) {
      const x = l.samples[s];
      L.push(`| ${s} | ${f2(x.p50)} | ${f2(x.p90)} | ${f2(x.p99)} | ${f2(x.max)} | ${x.count} | ${x.runs.map((r) => `${f2(r.p50)} / ${f2(r.p99)}`).join("; ")} |`);
    }
    L.push("");
  }
  const c = r.cost;
  if (c) {
    const w = lifecycle(c, "Workstream");
    const b = lifecycle(c, "BullMQ");
    L.push("### Cost per job (server-executed commands, as Upstash bills them: the EVALSHA plus every command the script runs)");
    L.push("");
    L.push("| scenario | Workstream cmds/job | BullMQ cmds/job | ratio | Workstream round trips/job | BullMQ round trips/job | Workstream $/1M jobs | BullMQ $/1M jobs |");
    L.push("|---|---|---|---|---|---|---|---|");
    L.push(`| pre-filled (single adds, then drain at c=1) | ${f1(w.prefilled)} | ${f1(b.prefilled)} | ${f2(w.prefilled / b.prefilled)} | ${f2(w.prefilledTrips)} | ${f2(b.prefilledTrips)} | ${usd(dollarsPerMillionJobs(w.prefilled))} | ${usd(dollarsPerMillionJobs(b.prefilled))} |`);
    L.push(`| pre-filled (batches of 100, then drain at c=1) | ${f1(w.batchPrefilled)} | ${f1(b.batchPrefilled)} | ${f2(w.batchPrefilled / b.batchPrefilled)} | ${f2(w.batchPrefilledTrips)} | ${f2(b.batchPrefilledTrips)} | ${usd(dollarsPerMillionJobs(w.batchPrefilled))} | ${usd(dollarsPerMillionJobs(b.batchPrefilled))} |`);
    L.push(`| trickle (one job at a time, idle worker waiting) | ${f1(w.trickle)} | ${f1(b.trickle)} | ${f2(w.trickle / b.trickle)} | ${f2(w.trickleTrips)} | ${f2(b.trickleTrips)} | ${usd(dollarsPerMillionJobs(w.trickle))} | ${usd(dollarsPerMillionJobs(b.trickle))} |`);
    L.push("");
    L.push("Where the commands go (per job):");
    L.push("");
    for (const s of ["Workstream", "BullMQ"] as const) {
      const sc = c.scenarios[s];
      L.push(`- ${s}, enqueue: ${topCommands(sc.enqueue.byCommand, sc.enqueue.jobs)}`);
      L.push(`- ${s}, drain (claim + ack): ${topCommands(sc.drain.byCommand, sc.drain.jobs)}`);
      L.push(`- ${s}, trickle (whole life, incl. re-arming the idle wait): ${topCommands(sc.trickle.byCommand, sc.trickle.jobs)}`);
    }
    L.push("");
  }
  const i = r.idle;
  if (i) {
    L.push(`### Idle cost (measured over ${f0(i.windowMs / 1000)} s with default wait settings, scaled to a minute)`);
    L.push("");
    L.push("| what | commands/min | round trips/min | $/idle month | commands |");
    L.push("|---|---|---|---|---|");
    for (const row of i.rows) {
      const pm = idlePerMinute(i, row.label);
      L.push(`| ${row.label} | ${f1(pm.commands)} | ${f1(pm.trips)} | ${usd(dollarsPerIdleMonth(pm.commands))} | ${topCommands(row.byCommand, i.windowMs / 60_000)} |`);
    }
    if (c) {
      const tpm = tickPerMinute(c);
      L.push(`| Workstream maintenance: engine.tick() once a minute as the reclaim cron runs it (TTL scan every ${MAINTENANCE_DEFAULTS.expireEveryMinutes}th minute, trim every ${MAINTENANCE_DEFAULTS.trimEveryMinutes}th) | ${f1(tpm)} | 1.0 | ${usd(dollarsPerIdleMonth(tpm))} | plain ${c.tick.plain.serverCommands}, with TTL scan ${c.tick.expire.serverCommands}, with trim ${c.tick.trim.serverCommands} (3 default queues; the callback outbox and DLQ-alert sweep add 9/min when notifications are on) |`);
      L.push("| BullMQ maintenance | – | – | – | none separate: the stalled-job checker runs inside the Worker (every 30 s) and is in its row; QueueScheduler no longer exists |");
      const w = idlePerMinute(i, "Workstream worker").commands + tpm;
      const b = idlePerMinute(i, "BullMQ worker").commands;
      L.push(`| **total idle: Workstream worker + tick / BullMQ worker** | ${f1(w)} / ${f1(b)} | | ${usd(dollarsPerIdleMonth(w))} / ${usd(dollarsPerIdleMonth(b))} | |`);
    }
    L.push("");
  }
  const h = r.http;
  if (h) {
    L.push(`### HTTP path: Workstream engine over \`@upstash/redis\` → local REST stand-in → redis-server (${h.ops} sequential ops each)`);
    L.push("");
    L.push("| operation | p50 ms | p99 ms | HTTP requests/op | REST commands/op | server commands/op (billed) |");
    L.push("|---|---|---|---|---|---|");
    for (const row of h.rows) L.push(`| ${row.op} | ${f2(row.p50)} | ${f2(row.p99)} | ${f2(row.requestsPerOp)} | ${f2(row.restCommandsPerOp)} | ${f2(row.serverCommandsPerOp)} |`);
    L.push("");
    L.push("BullMQ has no HTTP path (it needs a TCP connection and blocking commands), so this section is Workstream only. Loopback HTTP: it shows the per-request overhead, not Upstash's network latency.");
    L.push("");
  }
  const p = r.primitives;
  if (p) {
    L.push(`### The machine's limit: \`redis-benchmark -q -n ${f0(p.requests)}\` (50 clients, no pipelining) on the same redis-server`);
    L.push("");
    L.push("| command | requests/s | p50 ms |");
    L.push("|---|---|---|");
    for (const row of p.rows) L.push(`| ${row.command} | ${f0(row.rps)} | ${row.p50} |`);
    L.push("");
  }
  L.push(`Prices: ${PRICE_NOTE}. $ per million jobs = commands/job × 1,000,000 × $0.2 / 100,000; $ per idle month = commands/min × 43,200 min × $0.2 / 100,000.`);
  L.push("");
  for (const n of r.notes) L.push(`- ${n}`);
  return L.join("\n");
}

// ── SVG ───────────────────────────────────────────────────────────────────────────────────

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** Grouped bars: for each fill mode and concurrency, Workstream and BullMQ median drain jobs/s, with min–max whiskers. */
export function throughputSvg(t: ThroughputResult, m: Machine): string {
  const groups: Array<{ label: string; w: Spread; b: Spread }> = [];
  for (const fill of ["sequential", "batch"] as const) {
    for (const c of t.concurrencies) {
      groups.push({
        label: `c=${c} · ${fill}`,
        w: spread(t.drain.Workstream[fill][String(c)] ?? []),
        b: spread(t.drain.BullMQ[fill][String(c)] ?? []),
      });
    }
  }
  const W = 760, H = 420, left = 70, right = 20, top = 60, bottom = 70;
  const plotW = W - left - right, plotH = H - top - bottom;
  const maxV = Math.max(1, ...groups.flatMap((g) => [g.w.max, g.b.max].filter(Number.isFinite)));
  const step = niceStep(maxV / 5);
  const yMax = Math.ceil(maxV / step) * step;
  const y = (v: number) => top + plotH - (v / yMax) * plotH;
  const gw = plotW / groups.length;
  const bw = Math.min(34, gw / 3);
  const colors = { w: "#2b6cb0", b: "#c05621" };
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  out.push(`<text x="${W / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">Drain throughput (jobs/s, median of ${m.reps}, whiskers min–max), N = ${t.n}</text>`);
  out.push(`<text x="${W / 2}" y="40" text-anchor="middle" fill="#555">${esc(`${m.date.slice(0, 10)} · ${m.nproc} cores · ${m.cpu} · ${m.redis} · bullmq ${m.bullmq}`)}</text>`);
  for (let v = 0; v <= yMax + 1e-9; v += step) {
    out.push(`<line x1="${left}" x2="${W - right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e2e2e2"/>`);
    out.push(`<text x="${left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" fill="#333">${Math.round(v).toLocaleString("en-US")}</text>`);
  }
  out.push(`<line x1="${left}" x2="${left}" y1="${top}" y2="${top + plotH}" stroke="#333"/>`);
  out.push(`<line x1="${left}" x2="${W - right}" y1="${top + plotH}" y2="${top + plotH}" stroke="#333"/>`);
  groups.forEach((g, i) => {
    const cx = left + gw * i + gw / 2;
    for (const [k, s, x] of [["w", g.w, cx - bw - 2], ["b", g.b, cx + 2]] as const) {
      if (!Number.isFinite(s.median)) continue;
      const yTop = y(s.median);
      out.push(`<rect x="${x.toFixed(1)}" y="${yTop.toFixed(1)}" width="${bw.toFixed(1)}" height="${(top + plotH - yTop).toFixed(1)}" fill="${colors[k]}"/>`);
      const mx = x + bw / 2;
      out.push(`<line x1="${mx.toFixed(1)}" x2="${mx.toFixed(1)}" y1="${y(s.min).toFixed(1)}" y2="${y(s.max).toFixed(1)}" stroke="#111"/>`);
      out.push(`<text x="${mx.toFixed(1)}" y="${(Math.min(yTop, y(s.max)) - 5).toFixed(1)}" text-anchor="middle" font-size="10" fill="#111">${Math.round(s.median).toLocaleString("en-US")}</text>`);
    }
    out.push(`<text x="${cx.toFixed(1)}" y="${top + plotH + 18}" text-anchor="middle" fill="#333">${esc(g.label)}</text>`);
    const r = g.w.median / g.b.median;
    if (Number.isFinite(r)) out.push(`<text x="${cx.toFixed(1)}" y="${top + plotH + 34}" text-anchor="middle" fill="#555" font-size="11">W/B ${r.toFixed(2)}×</text>`);
  });
  const ly = H - 14;
  out.push(`<rect x="${left}" y="${ly - 10}" width="12" height="12" fill="${colors.w}"/><text x="${left + 18}" y="${ly}">Workstream Worker</text>`);
  out.push(`<rect x="${left + 160}" y="${ly - 10}" width="12" height="12" fill="${colors.b}"/><text x="${left + 178}" y="${ly}">BullMQ Worker (removeOnComplete)</text>`);
  out.push(`<text x="${W - right}" y="${ly}" text-anchor="end" fill="#555">concurrency · how the queue was filled</text>`);
  out.push("</svg>");
  return out.join("\n") + "\n";
}

function niceStep(raw: number): number {
  const p = 10 ** Math.floor(Math.log10(Math.max(raw, 1e-9)));
  for (const k of [1, 2, 2.5, 5, 10]) if (k * p >= raw) return k * p;
  return 10 * p;
}
