/**
 * The real `workstream` binary as a child process: exit codes (0 ok, 1 runtime error, 2 usage or
 * configuration error) with one line on stderr, and --json output of enqueue, status, stats and
 * keys against the test run's redis-server.
 *
 * The first tests run the bin shim (packages/cli/bin/workstream.mjs) on the TypeScript sources
 * through tsx, as in development; the rest run the esbuild bundle the shim prefers once built
 * (what `npm run build:cli` makes), built here into a temp dir: each run of the sources costs
 * ~1.5 s of CPU in module loading, the bundle ~0.3 s.
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { build } from "esbuild";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { AuditLog, keySpace, scriptRunner, tcpPort } from "../../packages/core/src/index.ts";
import { ROOT, runCli as runBin } from "../worker/support.ts";

let bundle = "";
beforeAll(async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "ws-cli-bundle-"));
  bundle = path.join(dir, "cli.mjs");
  await build({
    entryPoints: [path.join(ROOT, "packages", "cli", "src", "main.ts")],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    outfile: bundle,
    logLevel: "silent",
    banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
  });
  // The bundle's entry check looks for "cli.mjs" in argv[1], as when the shim imports it.
});

/** The bundled CLI (same code as the shim runs). */
const runCli = (args: string[], env: Record<string, string>) => runBin(args, env, { bin: bundle });

const oneLine = (s: string) => s.trimEnd().split("\n").length === 1;

function env() {
  return { WORKSTREAM_REDIS_URL: inject("redisUrl"), WORKSTREAM_KEY_PREFIX: `t${randomUUID().slice(0, 8)}:` };
}

describe.concurrent("workstream CLI: usage and configuration errors", { timeout: 120_000 }, () => {
  it("exits 2 with usage when run without a command, 2 with one line for an unknown one", async () => {
    const none = await runBin([], {});
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("usage: workstream");
    const unknown = await runBin(["frobnicate"], {});
    expect(unknown).toMatchObject({ code: 2, stdout: "" });
    expect(oneLine(unknown.stderr)).toBe(true);
    expect(unknown.stderr).toContain('unknown command "frobnicate"');
  });

  it("exits 2 with one line for a bad flag, a bad payload and an invalid job", async () => {
    const e = env();
    for (const args of [["enqueue", "--bogus"], ["enqueue", "--payload", "{not json"], ["enqueue", "--payload", "{}", "--priority", "urgent"], ["status"]]) {
      const r = await runCli(args, e);
      expect(r.code, args.join(" ")).toBe(2);
      expect(oneLine(r.stderr), r.stderr).toBe(true);
    }
  });

  it("exits 2 with one line naming the variable when Redis is not configured", async () => {
    const r = await runCli(["stats"], {});
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toBe(true);
    expect(r.stderr).toContain("WORKSTREAM_REDIS_URL");
    const w = await runCli(["worker"], { WORKSTREAM_REDIS_URL: inject("redisUrl") });
    expect(w.code).toBe(2);
    expect(oneLine(w.stderr)).toBe(true);
    expect(w.stderr).toContain("WORKSTREAM_HANDLER");
    const c = await runCli(["worker", "--handler", "x.mjs", "--concurrency", "0"], { WORKSTREAM_REDIS_URL: inject("redisUrl") });
    expect(c.code).toBe(2);
    expect(c.stderr).toContain("concurrency must be 1..1000");
    for (const bad of ["lots", "2.5", "1001"]) {
      const p = await runCli(["worker", "--handler", "x.mjs", "--prefetch", bad], { WORKSTREAM_REDIS_URL: inject("redisUrl") });
      expect([p.code, oneLine(p.stderr)], p.stderr).toEqual([2, true]);
      expect(p.stderr).toContain("prefetch must be 0..1000 or auto");
    }
  });

  it("exits 1 with one line for a runtime error (unknown job)", async () => {
    const r = await runCli(["status", "no-such-job"], env());
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toBe(true);
    expect(r.stderr).toContain("not found");
  });

  it("exits 1 with one line naming the address and the cause, not the password, when Redis is unreachable", async () => {
    // port 1 on loopback: nothing listens; the client gives up after its reconnect attempts (~10 s)
    const r = await runCli(["stats"], { WORKSTREAM_REDIS_URL: "redis://:hunter2-secret@127.0.0.1:1" });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("workstream stats: could not reach Redis at redis://127.0.0.1:1: connect ECONNREFUSED 127.0.0.1:1\n");
    expect(r.stdout).toBe("");
  }, 45_000);
});

describe.concurrent("workstream CLI: enqueue, status, stats", { timeout: 120_000 }, () => {
  it("enqueues from flags and reads it back with --json", async () => {
    const e = env();
    const enq = await runCli(["enqueue", "--id", "cli-1", "--priority", "high", "--type", "debate", "--payload", '{"topic":"tabs"}', "--json"], e);
    expect(enq.code, enq.stderr).toBe(0);
    expect(JSON.parse(enq.stdout)).toEqual({ id: "cli-1", queue: "high_priority", status: "pending", created: true });
    const st = await runCli(["status", "cli-1", "--json"], e);
    expect(st.code).toBe(0);
    expect(JSON.parse(st.stdout)).toMatchObject({ id: "cli-1", status: "pending", type: "debate", payload: { topic: "tabs" }, priority: "high" });
    const again = await runCli(["enqueue", "--id", "cli-1", "--payload", "{}", "--queue", "high_priority", "--json"], e);
    expect(JSON.parse(again.stdout)).toMatchObject({ id: "cli-1", created: false });
    const stats = await runCli(["stats", "--json"], e);
    expect(stats.code).toBe(0);
    const parsed = JSON.parse(stats.stdout) as { queues: Array<{ queue: string; pending: number }>; workers: { total: number } };
    expect(parsed.queues.find((q) => q.queue === "high_priority")).toMatchObject({ pending: 1 });
    expect(parsed.workers).toMatchObject({ total: 0, idle: 0, busy: 0, suspended: 0 });
    const table = await runCli(["stats"], e);
    expect(table.stdout).toMatch(/^queue\s+pending\s+started/);
    expect(table.stdout).toContain("workers: 0 total");
  });

  it("lists a queue's jobs by state, page by page; an unknown state exits 2", async () => {
    const e = env();
    for (const id of ["j-1", "j-2", "j-3"]) expect((await runCli(["enqueue", "--id", id, "--queue", "low_priority", "--payload", "{}"], e)).code).toBe(0);
    const first = await runCli(["jobs", "pending", "--queue", "low_priority", "--limit", "2", "--json"], e);
    expect(first.code, first.stderr).toBe(0);
    const page = JSON.parse(first.stdout) as { jobs: Array<{ id: string; status: string }>; nextCursor: string };
    expect(page.jobs.map((j) => [j.id, j.status])).toEqual([["j-1", "pending"], ["j-2", "pending"]]);
    const next = await runCli(["jobs", "pending", "--queue", "low_priority", "--cursor", page.nextCursor, "--json"], e);
    expect((JSON.parse(next.stdout) as { jobs: Array<{ id: string }> }).jobs.map((j) => j.id)).toEqual(["j-3"]);
    const table = await runCli(["jobs", "pending", "--queue", "low_priority", "--limit", "2"], e);
    expect(table.stdout).toMatch(/^job\s+status\s+type/);
    expect(table.stdout).toContain(`more: --cursor ${page.nextCursor}`);
    const bad = await runCli(["jobs", "running"], e);
    expect(bad.code).toBe(2);
    expect(oneLine(bad.stderr)).toBe(true);
    expect(bad.stderr).toContain('unknown state "running"');
    expect((await runCli(["jobs", "pending", "--queue", "nope"], e)).code).toBe(2); // unknown_queue is a usage error
  });

  it("sets, lists and deletes recurring schedules; a bad cron exits 2, an unknown schedule 1", async () => {
    const e = env();
    const set = await runCli(["schedules", "set", "nightly", "--cron", "0 2 * * *", "--job", '{"type":"report","payload":{"scope":"all"}}', "--json"], e);
    expect(set.code, set.stderr).toBe(0);
    expect(JSON.parse(set.stdout)).toMatchObject({ created: true, schedule: { name: "nightly", cron: "0 2 * * *", job: { type: "report" } } });
    const text = await runCli(["schedules", "set", "nightly", "--cron", "@hourly", "--job", '{"payload":{}}'], e);
    expect(text.stdout).toMatch(/^nightly replaced: @hourly, next run \d{4}-/);
    const list = await runCli(["schedules", "list"], e);
    expect(list.stdout).toMatch(/^schedule\s+cron\s+next run/);
    expect(list.stdout).toContain("nightly");
    const bad = await runCli(["schedules", "set", "x", "--cron", "0 25 * * *", "--job", '{"payload":{}}'], e);
    expect(bad.code).toBe(2);
    expect(oneLine(bad.stderr)).toBe(true);
    expect(bad.stderr).toContain("hour 25 is outside 0-23");
    expect((await runCli(["schedules", "delete", "nightly"], e)).stdout).toBe("nightly deleted\n");
    const gone = await runCli(["schedules", "delete", "nightly"], e);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('schedule "nightly" does not exist');
    expect((await runCli(["schedules", "list", "--json"], e)).stdout).toBe('{"schedules":[]}\n');
  });

  it("creates, lists and revokes API keys; suspending an unknown worker exits 1", async () => {
    const e = env();
    const created = await runCli(["keys", "create", "--principal", "ci-bot", "--roles", "producer,worker", "--permission-levels", "autonomous", "--json"], e);
    expect(created.code, created.stderr).toBe(0);
    const key = JSON.parse(created.stdout) as { id: string; key: string; roles: string[] };
    expect(key.roles).toEqual(["producer", "worker"]);
    expect(key.key.length).toBeGreaterThan(20);
    const listed = JSON.parse((await runCli(["keys", "list", "--json"], e)).stdout) as Array<{ id: string; revokedAt: string | null }>;
    expect(listed.map((k) => k.id)).toContain(key.id);
    expect(listed.some((k) => "hash" in k || "key" in k)).toBe(false); // never the secret or its hash
    const revoked = await runCli(["keys", "revoke", key.id, "--json"], e);
    expect(JSON.parse(revoked.stdout)).toMatchObject({ id: key.id, revokedAt: expect.any(String) });
    const badRole = await runCli(["keys", "create", "--principal", "x", "--roles", "root"], e);
    expect(badRole.code).toBe(2);
    const unknown = await runCli(["workers", "suspend", "nobody"], e);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("not registered");
  });

  it("records its state-changing commands in the audit log, under the CLI's principal, with their outcome", async () => {
    const e = { ...env(), WORKSTREAM_AUDIT_PRINCIPAL: "cli:ops@test" };
    expect((await runCli(["enqueue", "--payload", "{}", "--id", "audited-1"], e)).code).toBe(0);
    const created = await runCli(["keys", "create", "--principal", "bot", "--roles", "producer", "--json"], e);
    const keyId = (JSON.parse(created.stdout) as { id: string }).id;
    expect((await runCli(["keys", "revoke", keyId], e)).code).toBe(0);
    expect((await runCli(["dlq", "replay", "audited-1"], e)).code).toBe(1); // not in the DLQ: reported, exit 1
    expect((await runCli(["workers", "suspend", "nobody"], e)).code).toBe(1);
    expect((await runCli(["status", "audited-1"], e)).code).toBe(0); // reads are not audited

    const port = tcpPort(inject("redisUrl"));
    try {
      const log = new AuditLog(scriptRunner(port, e.WORKSTREAM_KEY_PREFIX, Date.now), keySpace(e.WORKSTREAM_KEY_PREFIX));
      const { entries } = await log.list();
      expect(entries.map((x) => [x.action, x.outcome]).reverse()).toEqual([
        ["enqueueBatch", "ok"],
        ["keysCreate", "ok"],
        ["keysRevoke", "ok"],
        ["dlqReplay", "ok"],
        ["workerSuspend", "worker_not_found"],
      ]);
      expect(entries.every((x) => x.principal === "cli:ops@test" && x.keyId === null && x.status === 0)).toBe(true);
      expect(entries.find((x) => x.action === "dlqReplay")).toMatchObject({ jobId: "audited-1", details: { results: [{ id: "audited-1", outcome: "not_in_dlq" }] } });
      expect(entries.find((x) => x.action === "keysCreate")!.details).toMatchObject({ keyId, principal: "bot" });
    } finally {
      await port.close();
    }
  });

  it("encrypts --sensitive fields with WORKSTREAM_ENCRYPTION_KEYS, and refuses them without (nothing stored)", async () => {
    const e = { ...env(), WORKSTREAM_ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 3).toString("base64")}` };
    const ok = await runCli(["enqueue", "--id", "sec-1", "--payload", '{"token":"ghp_cli","repo":"a"}', "--sensitive", "payload.token"], e);
    expect(ok.code, ok.stderr).toBe(0);
    const port = tcpPort(inject("redisUrl"));
    try {
      const raw = await port.client.hget(`${e.WORKSTREAM_KEY_PREFIX}job:sec-1`, "payload");
      expect(raw).not.toContain("ghp_cli");
      expect(JSON.parse((await runCli(["status", "sec-1", "--json"], e)).stdout).payload).toEqual({ token: "ghp_cli", repo: "a" });
      const { WORKSTREAM_ENCRYPTION_KEYS: _, ...noKeys } = e;
      const refused = await runCli(["enqueue", "--id", "sec-2", "--payload", '{"token":"x"}', "--sensitive", "payload.token"], noKeys);
      expect(refused.code).not.toBe(0);
      expect(oneLine(refused.stderr)).toBe(true);
      expect(await port.client.exists(`${e.WORKSTREAM_KEY_PREFIX}job:sec-2`)).toBe(0);
    } finally {
      await port.close();
    }
  });

  it("enqueues a --file array in chunks with a progress bar on stderr", async () => {
    const e = env();
    const dir = mkdtempSync(path.join(os.tmpdir(), "ws-cli-"));
    const file = path.join(dir, "jobs.json");
    writeFileSync(file, JSON.stringify(Array.from({ length: 1200 }, (_, i) => ({ id: `f-${i}`, payload: { i } }))));
    const r = await runCli(["enqueue", "--file", file, "--json"], e);
    expect(r.code, r.stderr).toBe(0);
    const results = JSON.parse(r.stdout) as Array<{ id: string; created: boolean }>;
    expect(results).toHaveLength(1200);
    expect(results.every((x) => x.created)).toBe(true);
    expect(r.stderr).toContain("1200/1200 100%");
    expect(r.stderr).toContain(" 500/1200");
    const stats = JSON.parse((await runCli(["stats", "--json"], e)).stdout) as { queues: Array<{ queue: string; pending: number }> };
    expect(stats.queues.find((q) => q.queue === "default")!.pending).toBe(1200);
  });
});
