/**
 * A focused profile of the Workstream drain (not part of `npm run bench`): fills N jobs with
 * enqueueBatch, drains them with the Worker at each concurrency, and prints jobs/s with the CPU
 * time the worker process and redis-server spent per job, and the server's top commands by time.
 *
 *   npx tsx bench/profile-drain.ts [N] [concurrency,...]
 */
import { performance } from "node:perf_hooks";
import { Redis } from "ioredis";
import { Engine, silentLogger, tcpPort, Worker } from "../packages/core/src/index.ts";
import { startRedisServer } from "../packages/local/src/index.ts";

const n = Number(process.argv[2] ?? 5000);
const concs = (process.argv[3] ?? "1,10,50").split(",").map(Number);
const server = await startRedisServer();
const admin = new Redis(server.url);

async function redisCpuMs(): Promise<number> {
  const info = await admin.info("cpu");
  const get = (k: string) => Number(new RegExp(`${k}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  return (get("used_cpu_user") + get("used_cpu_sys")) * 1000;
}

async function topCommands(): Promise<string> {
  const info = await admin.info("commandstats");
  const rows = [...info.matchAll(/cmdstat_(\w+):calls=(\d+),usec=(\d+)/g)].map((m) => ({ cmd: m[1], calls: Number(m[2]), usec: Number(m[3]) }));
  rows.sort((a, b) => b.usec - a.usec);
  return rows.slice(0, 8).map((r) => `${r.cmd} ${(r.calls / n).toFixed(2)}/job ${(r.usec / n).toFixed(1)}µs/job`).join(", ");
}

for (const c of concs) {
  for (let rep = 0; rep < 3; rep++) {
    await admin.flushall();
    const keyPrefix = `p${c}r${rep}:`;
    const producer = tcpPort(server.url);
    const engine = new Engine({ redis: producer, settings: { keyPrefix } });
    for (let i = 0; i < n; i += 1000) await engine.enqueueBatch(Array.from({ length: Math.min(1000, n - i) }, (_, k) => ({ queue: "default", payload: { i: i + k } })));
    await admin.config("RESETSTAT");
    const port = tcpPort(server.url);
    const wEngine = new Engine({ redis: port, settings: { keyPrefix } });
    let done = 0;
    let finish!: () => void;
    const finished = new Promise<void>((r) => (finish = r));
    const worker = new Worker({ engine: wEngine, redis: port, concurrency: c, queues: ["default"], logger: silentLogger, handler: async () => null });
    const cpu0 = process.cpuUsage();
    const r0 = await redisCpuMs();
    const t0 = performance.now();
    const poll = setInterval(() => {
      if (worker.stats().jobs_processed >= n) finish();
      done = worker.stats().jobs_processed;
    }, 1);
    await worker.start();
    await finished;
    const ms = performance.now() - t0;
    clearInterval(poll);
    const cpu = process.cpuUsage(cpu0);
    const r1 = await redisCpuMs();
    console.log(
      `c=${c} ${Math.round((n / ms) * 1000)} jobs/s; node ${((cpu.user + cpu.system) / n).toFixed(1)} µs/job; redis ${(((r1 - r0) * 1000) / n).toFixed(1)} µs/job (done ${done})`,
    );
    if (rep === 0) console.log("   ", await topCommands());
    await worker.stop({ graceMs: 1000 });
    await Promise.race([port.close(), new Promise((r) => setTimeout(r, 200))]);
    port.client.disconnect();
    await producer.close();
  }
}
admin.disconnect();
await server.stop();
