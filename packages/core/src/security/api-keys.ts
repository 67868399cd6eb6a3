/**
 * API keys: `ws_<id>_<secret>`. The id is public (it names the key in lists and audit entries);
 * the secret is 256 random bits shown once at creation. Redis stores only SHA-256(secret), with
 * the key's principal, roles, the permission levels a worker key may claim, an expiry and its
 * revocation. A principal may hold several active keys, so keys rotate without downtime: create
 * the new key, deploy it, revoke the old one.
 *
 * The bootstrap admin key (WORKSTREAM_ADMIN_KEY / SST secret AdminBootstrapKey) is never stored:
 * it is checked in memory against the configured secret, and rotating the secret retires it.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import { ApiKeyNotFoundError, ConfigError, ValidationError } from "../errors.ts";
import type { KeySpace } from "../keys.ts";
import { PermissionLevel } from "../messages.ts";
import { luaList, pairsToRecord, type ScriptRunner } from "./runner.ts";

export const ROLES = ["producer", "worker", "controller", "admin"] as const;
export const Role = z.enum(ROLES);
export type Role = z.infer<typeof Role>;

/** The public part of a key: lower-case letters and digits. */
export const KeyId = z.string().regex(/^[a-z0-9]{4,32}$/, "key ids are 4-32 lower-case letters and digits");
/** Who a key belongs to (a service, a worker pool, a person). No ':' — worker ids are `<principal>:<instance>`. */
export const PrincipalName = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[A-Za-z0-9._\-]+$/, "principals may contain letters, digits and . _ - only");

const KEY_PATTERN = /^ws_([a-z0-9]{4,32})_([A-Za-z0-9_\-]{32,128})$/;
const DAY = 86_400_000;
/** Expired and revoked keys stay listed this long, then their records are deleted. */
export const KEY_RECORD_RETENTION_MS = 30 * DAY;

export interface AuthPrincipal {
  /** The principal's name (e.g. "ci-bot", "worker-pool-a"). */
  name: string;
  keyId: string;
  roles: readonly Role[];
  /** What a worker key may claim; empty for other roles. */
  permissionLevels: readonly PermissionLevel[];
  bootstrap: boolean;
}

export interface ApiKeyInfo {
  id: string;
  principal: string;
  roles: Role[];
  permissionLevels: PermissionLevel[];
  name: string | null;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

export const CreateApiKeyInput = z
  .object({
    principal: PrincipalName,
    roles: z.array(Role).min(1).max(ROLES.length).refine((r) => new Set(r).size === r.length, "roles must not repeat"),
    /** Levels a worker key may claim (worker role only). Default: ["autonomous"]. */
    permissionLevels: z.array(PermissionLevel).min(1).max(3).optional(),
    /** A note for humans ("CI producer, rotated 2026-11"). */
    name: z.string().min(1).max(128).optional(),
    /** Days until the key stops working. Default 90, at most 730. */
    expiresInDays: z.number().int().min(1).max(730).default(90),
  })
  .strict()
  .refine((k) => k.permissionLevels === undefined || k.roles.includes("worker"), {
    message: "permissionLevels apply to worker keys only",
    path: ["permissionLevels"],
  });
export type CreateApiKeyInput = z.input<typeof CreateApiKeyInput>;

export type VerifyFailure = "malformed" | "unknown" | "bad_secret" | "revoked" | "expired";
export type VerifyResult = { ok: true; principal: AuthPrincipal } | { ok: false; reason: VerifyFailure; keyId: string | null };

export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret, "utf8").digest("hex");
}

export function parseApiKey(raw: string): { id: string; secret: string } | null {
  const m = KEY_PATTERN.exec(raw);
  return m ? { id: m[1]!, secret: m[2]! } : null;
}

/** A fresh key: 64-bit id, 256-bit secret. */
export function generateApiKey(): { id: string; secret: string; key: string } {
  const id = randomBytes(8).toString("hex");
  const secret = randomBytes(32).toString("base64url");
  return { id, secret, key: `ws_${id}_${secret}` };
}

/** The bootstrap admin key from its configured value; throws a ConfigError naming the variable when malformed. */
export function bootstrapKey(value: string, variable: string): { id: string; hash: string } {
  const parsed = parseApiKey(value.trim());
  if (!parsed) {
    throw new ConfigError(`${variable} must look like ws_<id>_<secret> (id: 4-32 of a-z0-9; secret: 32+ base64url characters)`, { variable });
  }
  return { id: parsed.id, hash: hashSecret(parsed.secret) };
}

const csv = (s: string | undefined) => (s ? s.split(",").filter(Boolean) : []);
const msIso = (s: string | undefined) => (s && /^\d+$/.test(s) && s !== "0" ? new Date(Number(s)).toISOString() : null);

function toInfo(r: Record<string, string>): ApiKeyInfo {
  return {
    id: r["id"] ?? "",
    principal: r["principal"] ?? "",
    roles: z.array(Role).catch([]).parse(csv(r["roles"])),
    permissionLevels: z.array(PermissionLevel).catch([]).parse(csv(r["levels"])),
    name: r["name"] || null,
    createdAt: msIso(r["created_at"]) ?? new Date(0).toISOString(),
    expiresAt: msIso(r["expires_at"]),
    revokedAt: msIso(r["revoked_at"]),
    lastUsedAt: msIso(r["last_used_at"]),
  };
}

const VerifyReply = z.discriminatedUnion("status", [
  z.object({ status: z.literal("ok"), fields: z.array(z.string()) }),
  z.object({ status: z.enum(["unknown", "bad_secret", "revoked", "expired"]) }),
]);

export class ApiKeyStore {
  constructor(
    private readonly run: ScriptRunner,
    private readonly keys: KeySpace,
    private readonly now: () => number,
    private readonly bootstrap: { id: string; hash: string } | null = null,
  ) {}

  /** Creates a key and returns it with its secret: the only time the secret is ever visible. */
  async create(input: CreateApiKeyInput): Promise<ApiKeyInfo & { key: string }> {
    const k = CreateApiKeyInput.parse(input);
    const gen = generateApiKey();
    if (gen.id === this.bootstrap?.id) throw new ValidationError("key id collision, try again");
    const now = this.now();
    const expiresAt = now + k.expiresInDays * DAY;
    const levels = k.roles.includes("worker") ? (k.permissionLevels ?? ["autonomous"]) : [];
    const fields: Record<string, string | number> = {
      id: gen.id,
      principal: k.principal,
      roles: k.roles.join(","),
      levels: [...new Set(levels)].join(","),
      hash: hashSecret(gen.secret),
      name: k.name ?? "",
      created_at: now,
      expires_at: expiresAt,
    };
    const reply = JSON.parse(
      await this.run("api_key_create", [], [gen.id, expiresAt - now + KEY_RECORD_RETENTION_MS, ...Object.entries(fields).flat()]),
    ) as { ok: boolean };
    if (!reply.ok) throw new ValidationError("key id collision, try again");
    return { key: gen.key, ...toInfo(Object.fromEntries(Object.entries(fields).map(([f, v]) => [f, String(v)]))) };
  }

  /** Checks a presented key. Failures are values: the caller decides what to tell the client (401) and the audit log. */
  async verify(raw: string): Promise<VerifyResult> {
    const parsed = parseApiKey(raw);
    if (!parsed) return { ok: false, reason: "malformed", keyId: null };
    const hash = hashSecret(parsed.secret);
    if (this.bootstrap && parsed.id === this.bootstrap.id) {
      const ok = timingSafeEqual(Buffer.from(hash, "hex"), Buffer.from(this.bootstrap.hash, "hex"));
      return ok
        ? { ok: true, principal: { name: "bootstrap-admin", keyId: parsed.id, roles: ["admin"], permissionLevels: [], bootstrap: true } }
        : { ok: false, reason: "bad_secret", keyId: parsed.id };
    }
    const reply = VerifyReply.parse(JSON.parse(await this.run("api_key_verify", [this.keys.apiKey(parsed.id)], [hash])));
    if (reply.status !== "ok") return { ok: false, reason: reply.status, keyId: parsed.id };
    const info = toInfo(pairsToRecord(reply.fields));
    return {
      ok: true,
      principal: { name: info.principal, keyId: info.id, roles: info.roles, permissionLevels: info.permissionLevels, bootstrap: false },
    };
  }

  async list(opts: { principal?: string; includeRevoked?: boolean; limit?: number } = {}): Promise<ApiKeyInfo[]> {
    const raw = JSON.parse(
      await this.run("api_key_list", [], [opts.limit ?? 100, opts.principal ?? "", opts.includeRevoked ? "1" : "0"]),
    ) as unknown;
    return z.array(z.array(z.string())).parse(luaList(raw)).map((row) => toInfo(pairsToRecord(row)));
  }

  /** Revokes a key: it stops working on the next request. Revoking twice is harmless. */
  async revoke(id: string): Promise<ApiKeyInfo> {
    if (this.bootstrap && id === this.bootstrap.id) {
      throw new ValidationError("the bootstrap admin key is retired by changing its secret (WORKSTREAM_ADMIN_KEY / AdminBootstrapKey), not revoked");
    }
    const reply = z
      .union([z.object({ ok: z.literal(true), fields: z.array(z.string()) }), z.object({ ok: z.literal(false) })])
      .parse(JSON.parse(await this.run("api_key_revoke", [this.keys.apiKey(id)], [])));
    if (!reply.ok) throw new ApiKeyNotFoundError(id);
    return toInfo(pairsToRecord(reply.fields));
  }
}
