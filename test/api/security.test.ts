/**
 * Security building blocks on their own: key format and hashing, the key store's expiry and
 * revocation (injected clock, real Redis over both transports' port type), the keyring and
 * envelope encryption with rotation, and the bounded, paginated audit log.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  ApiKeyStore,
  AuditLog,
  bootstrapKey,
  ConfigError,
  generateApiKey,
  hashSecret,
  jsonDepth,
  keySpace,
  openAll,
  parseApiKey,
  parseKeyring,
  scriptRunner,
  seal,
  sealedPaths,
  sealPaths,
  ValidationError,
} from "../../packages/core/src/index.ts";
import { manualClock, openPort, rawRedis } from "../support/engines.ts";

const b64 = () => randomBytes(32).toString("base64");

function store(clock = manualClock(), bootstrap: { id: string; hash: string } | null = null) {
  const prefix = `sec${randomUUID().slice(0, 8)}:`;
  const run = scriptRunner(openPort("upstash"), prefix, clock.now);
  return { prefix, clock, keys: new ApiKeyStore(run, keySpace(prefix), clock.now, bootstrap), audit: (max: number) => new AuditLog(run, keySpace(prefix), max) };
}

describe("API keys", () => {
  it("look like ws_<id>_<secret> with a 256-bit secret; only SHA-256 of the secret is stored", async () => {
    const g = generateApiKey();
    expect(g.key).toMatch(/^ws_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(parseApiKey(g.key)).toEqual({ id: g.id, secret: g.secret });
    expect(parseApiKey("ws_x_short")).toBeNull();
    const s = store();
    const k = await s.keys.create({ principal: "ci", roles: ["producer"] });
    const stored = await rawRedis().hgetall(`${s.prefix}apikey:${k.id}`);
    expect(stored["hash"]).toBe(hashSecret(parseApiKey(k.key)!.secret));
    expect(JSON.stringify(stored)).not.toContain(parseApiKey(k.key)!.secret);
  });

  it("expire, can be revoked, and a principal can hold several at once", async () => {
    const s = store();
    const a = await s.keys.create({ principal: "svc", roles: ["worker"], permissionLevels: ["supervised"], expiresInDays: 1 });
    const b = await s.keys.create({ principal: "svc", roles: ["worker"] });
    expect(await s.keys.verify(a.key)).toMatchObject({ ok: true, principal: { name: "svc", permissionLevels: ["supervised"] } });
    expect(await s.keys.verify(b.key)).toMatchObject({ ok: true, principal: { permissionLevels: ["autonomous"] } });
    expect(await s.keys.verify(a.key.slice(0, -2) + "zz")).toMatchObject({ ok: false, reason: "bad_secret" });
    expect(await s.keys.verify(`ws_ffff0000_${"a".repeat(43)}`)).toMatchObject({ ok: false, reason: "unknown" });
    s.clock.advance(86_400_000);
    expect(await s.keys.verify(a.key)).toMatchObject({ ok: false, reason: "expired" });
    expect(await s.keys.verify(b.key)).toMatchObject({ ok: true });
    await s.keys.revoke(b.id);
    expect(await s.keys.verify(b.key)).toMatchObject({ ok: false, reason: "revoked" });
    expect((await s.keys.list({ principal: "svc" })).map((k) => k.id)).toEqual([a.id]);
    expect(await s.keys.list({ principal: "svc", includeRevoked: true })).toHaveLength(2);
  });

  it("the bootstrap admin key is checked in memory and never stored", async () => {
    const admin = generateApiKey();
    const s = store(manualClock(), bootstrapKey(admin.key, "WORKSTREAM_ADMIN_KEY"));
    expect(await s.keys.verify(admin.key)).toMatchObject({ ok: true, principal: { roles: ["admin"], bootstrap: true } });
    expect(await s.keys.verify(admin.key.slice(0, -1) + (admin.key.endsWith("A") ? "B" : "A"))).toMatchObject({ ok: false, reason: "bad_secret" });
    expect(await rawRedis().keys(`${s.prefix}*`)).toEqual([]);
    expect(() => bootstrapKey("hunter2", "WORKSTREAM_ADMIN_KEY")).toThrow(/WORKSTREAM_ADMIN_KEY/);
  });
});

describe("payload encryption", () => {
  it("parses keyrings and names the variable on errors", () => {
    const ring = parseKeyring(`new:${b64()},old:${b64()}`, "WORKSTREAM_ENCRYPTION_KEYS");
    expect(ring.currentKid).toBe("new");
    expect(() => parseKeyring("k:AAAA", "WORKSTREAM_ENCRYPTION_KEYS")).toThrow(ConfigError);
    expect(() => parseKeyring("nocolon", "WORKSTREAM_ENCRYPTION_KEYS")).toThrow(/WORKSTREAM_ENCRYPTION_KEYS/);
    expect(() => parseKeyring(`a:${b64()},a:${b64()}`, "X")).toThrow(/twice/);
  });

  it("seals any JSON value at the given paths; rotation keeps old envelopes readable; tampering is detected", () => {
    const oldKey = b64();
    const oldRing = parseKeyring(`k1:${oldKey}`, "X");
    const newRing = parseKeyring(`k2:${b64()},k1:${oldKey}`, "X");
    const body = { payload: { token: "t0p", list: [{ pw: 1 }, { pw: { deep: true } }] } };
    const sealedOld = sealPaths(body, ["payload.token"], oldRing, ["payload"]);
    const sealedNew = sealPaths(sealedOld, ["payload.list.1.pw"], newRing, ["payload"]);
    expect(JSON.stringify(sealedNew)).not.toContain("t0p");
    expect(sealedPaths(sealedNew.payload).sort()).toEqual(["list.1.pw", "token"]);
    expect(openAll(sealedNew, newRing)).toEqual({ value: body, undecryptable: [] });
    const partial = openAll(sealedNew, oldRing); // k2 unknown to the old ring
    expect(partial.undecryptable).toEqual(["payload.list.1.pw"]);
    const env = seal("x", newRing);
    const tampered = { ...env, ct: env.ct.slice(0, -2) + (env.ct.endsWith("AA") ? "BB" : "AA") };
    expect(openAll({ v: tampered }, newRing).undecryptable).toEqual(["v"]);
    expect(() => sealPaths(body, ["payload.missing"], newRing, ["payload"])).toThrow(ValidationError);
    expect(() => sealPaths(body, ["metadata.x"], newRing, ["payload"])).toThrow(ValidationError);
  });

  it("measures nesting without recursion", () => {
    let deep: unknown = 0;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(jsonDepth(deep)).toBeGreaterThan(64);
    expect(jsonDepth({ a: [1, { b: 2 }] })).toBe(3);
  });
});

describe("audit log", () => {
  it("is capped near its maximum and pages newest first with filters", async () => {
    const s = store();
    const log = s.audit(100);
    for (let i = 0; i < 300; i++) {
      await log.append({ principal: i % 2 ? "odd" : "even", keyId: "k", action: "ack", jobId: `j-${i}`, outcome: "ok", status: 200 });
    }
    const len = await rawRedis().xlen(`${s.prefix}audit`);
    expect(len).toBeGreaterThanOrEqual(100);
    expect(len).toBeLessThan(300);
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 100; page++) {
      const r = await log.list({ limit: 7, principal: "odd", ...(cursor && { cursor }) });
      seen.push(...r.entries.map((e) => e.jobId!));
      if (!r.nextCursor) break;
      cursor = r.nextCursor;
    }
    expect(seen[0]).toBe("j-299");
    expect(seen.every((id) => Number(id.slice(2)) % 2 === 1)).toBe(true);
    const numbers = seen.map((id) => Number(id.slice(2)));
    expect([...numbers].sort((a, b) => b - a)).toEqual(numbers);
    expect(new Set(seen).size).toBe(seen.length);
  });
});
