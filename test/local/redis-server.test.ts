import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { freePort, startRedisServer, type RedisServerHandle } from "../../packages/local/src/index.ts";

/** Running, as opposed to gone or a killed zombie nobody has reaped yet. */
const isAlive = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
};

// Every server a test starts is stopped even if the test fails.
const started: RedisServerHandle[] = [];
const start = async (opts?: Parameters<typeof startRedisServer>[0]) => {
  const server = await startRedisServer(opts);
  started.push(server);
  return server;
};
afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.stop()));
});

async function withClient<T>(url: string, fn: (r: Redis) => Promise<T>): Promise<T> {
  // No ready check: it would turn a NOAUTH reply into a bare "Connection is closed".
  const client = new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: true, enableReadyCheck: false });
  try {
    await client.connect();
    return await fn(client);
  } finally {
    client.disconnect();
  }
}

describe("freePort", () => {
  it("returns a bindable port on 127.0.0.1", async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(0);
    expect(port).toBeLessThan(65536);
  });
});

describe("startRedisServer", () => {
  it("starts a private server on 127.0.0.1 that answers PING", async () => {
    const server = await start();
    expect(server.url).toBe(`redis://127.0.0.1:${server.port}`);
    expect(isAlive(server.pid)).toBe(true);
    expect(existsSync(server.dir)).toBe(true);
    const [pong, aof] = await withClient(server.url, async (r) => [
      await r.ping(),
      await r.config("GET", "appendonly"),
    ]);
    expect(pong).toBe("PONG");
    expect(aof).toEqual(["appendonly", "no"]);
  });

  it("stop() kills the process, removes its private dir and is idempotent", async () => {
    const server = await start();
    const { pid, dir } = server;
    await server.stop();
    expect(isAlive(pid)).toBe(false);
    expect(existsSync(dir)).toBe(false);
    await server.stop();
  });

  it("restart() keeps AOF data, the port and the dir", async () => {
    const server = await start({ appendOnly: true });
    const { port, dir, pid } = server;
    await withClient(server.url, async (r) => {
      await r.set("durable:k", "survives");
      await r.xadd("durable:s", "*", "f", "v");
    });
    await server.restart();
    expect(server.port).toBe(port);
    expect(server.dir).toBe(dir);
    expect(server.pid).not.toBe(pid);
    expect(isAlive(pid)).toBe(false);
    const [value, len] = await withClient(server.url, async (r) => [await r.get("durable:k"), await r.xlen("durable:s")]);
    expect(value).toBe("survives");
    expect(len).toBe(1);
  });

  it("without AOF, restart() starts empty", async () => {
    const server = await start();
    await withClient(server.url, (r) => r.set("k", "v"));
    await server.restart();
    expect(await withClient(server.url, (r) => r.get("k"))).toBeNull();
  });

  it("honours a given port, dir and password", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "workstream-test-"));
    try {
      const port = await freePort();
      const server = await start({ port, dir, password: "s3cret pw" });
      expect(server.port).toBe(port);
      expect(await withClient(server.url, (r) => r.ping())).toBe("PONG");
      await expect(withClient(`redis://127.0.0.1:${port}`, (r) => r.get("x"))).rejects.toThrow(/NOAUTH/);
      await server.stop();
      expect(existsSync(dir)).toBe(true); // caller-owned dirs are left alone
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("fails clearly, with the server's output, when the port is taken", async () => {
    const first = await start();
    await expect(startRedisServer({ port: first.port })).rejects.toThrow(/exited during start-up[\s\S]*in use/i);
  });

  it("kills its redis-server when the parent process exits without stop()", async () => {
    const entry = new URL("../../packages/local/src/index.ts", import.meta.url).href;
    const code = `const { startRedisServer } = await import(${JSON.stringify(entry)});
      const s = await startRedisServer(); console.log(s.pid); process.exit(0);`;
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], { timeout: 20_000 }, (err, out) =>
        err ? reject(err) : resolve(out),
      ),
    );
    const pid = Number(stdout.trim());
    expect(pid).toBeGreaterThan(0);
    for (let i = 0; i < 40 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 50));
    expect(isAlive(pid)).toBe(false);
  });

  it("says how to install redis-server when it is not on PATH", async () => {
    const savedPath = process.env.PATH;
    process.env.PATH = mkdtempSync(path.join(os.tmpdir(), "workstream-empty-path-"));
    try {
      await expect(startRedisServer()).rejects.toThrow(
        "redis-server not found on PATH: install it (Debian/Ubuntu: apt-get install -y redis-server)",
      );
    } finally {
      rmSync(process.env.PATH, { recursive: true, force: true });
      process.env.PATH = savedPath;
    }
  });
});
