/**
 * Field-level payload encryption (AES-256-GCM) for values a producer marks sensitive.
 *
 * A producer lists JSON paths into its enqueue body (`"sensitive": ["payload.api_token"]`); each
 * value found there is replaced, before it reaches Redis, by a sealed envelope
 *
 *   { "$ws_enc": "v1", "kid": "k2", "iv": <base64url 12 bytes>, "ct": <base64url ciphertext + 16-byte tag> }
 *
 * whose plaintext is the value's JSON (so strings, numbers, objects can all be sealed). Envelopes
 * are self-describing: decryption walks a payload and opens every envelope it finds, with the key
 * its `kid` names, so rotation is "add a new first key, keep the old ones until their jobs are gone".
 * Only the worker holding the lease (claim) and admins (job status, DLQ inspect) see plaintext.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { ConfigError, EncryptionUnavailableError, ValidationError } from "../errors.ts";

export const SEALED_MARKER = "$ws_enc";
const VERSION = "v1";
const AAD = Buffer.from("workstream:payload-field:v1");

export interface Keyring {
  /** Key id new envelopes are sealed with (the first key of the configuration). */
  readonly currentKid: string;
  readonly keys: ReadonlyMap<string, Buffer>;
}

export interface SealedValue {
  [SEALED_MARKER]: typeof VERSION;
  kid: string;
  iv: string;
  ct: string;
}

/**
 * Parses `kid1:base64key,kid0:base64old` (first = current; each key 32 bytes, base64 or base64url).
 * Throws a ConfigError naming `variable` when malformed.
 */
export function parseKeyring(spec: string, variable: string): Keyring {
  const keys = new Map<string, Buffer>();
  let currentKid = "";
  for (const part of spec.split(",").map((p) => p.trim()).filter(Boolean)) {
    const m = /^([A-Za-z0-9_\-]{1,32}):([A-Za-z0-9+/_\-]+={0,2})$/.exec(part);
    if (!m) throw new ConfigError(`${variable}: each entry must be <kid>:<base64 32-byte key>`, { variable });
    const key = Buffer.from(m[2]!.replace(/-/g, "+").replace(/_/g, "/"), "base64");
    if (key.length !== 32) throw new ConfigError(`${variable}: key "${m[1]}" is ${key.length} bytes, AES-256 needs 32`, { variable });
    if (keys.has(m[1]!)) throw new ConfigError(`${variable}: key id "${m[1]}" appears twice`, { variable });
    keys.set(m[1]!, key);
    currentKid ||= m[1]!;
  }
  if (!currentKid) throw new ConfigError(`${variable}: no keys`, { variable });
  return { currentKid, keys };
}

export function seal(value: unknown, ring: Keyring): SealedValue {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", ring.keys.get(ring.currentKid)!, iv);
  cipher.setAAD(AAD);
  const ct = Buffer.concat([cipher.update(JSON.stringify(value), "utf8"), cipher.final(), cipher.getAuthTag()]);
  return { [SEALED_MARKER]: VERSION, kid: ring.currentKid, iv: iv.toString("base64url"), ct: ct.toString("base64url") };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Anything that claims to be an envelope (has the marker key), authentic or not. */
export function looksSealed(v: unknown): v is Record<string, unknown> {
  return isRecord(v) && Object.prototype.hasOwnProperty.call(v, SEALED_MARKER);
}

/** Opens an envelope; null when it is malformed, its key is unknown or it fails authentication. */
export function unseal(v: Record<string, unknown>, ring: Keyring | null): { value: unknown } | null {
  if (!ring || v[SEALED_MARKER] !== VERSION || typeof v["kid"] !== "string" || typeof v["iv"] !== "string" || typeof v["ct"] !== "string") return null;
  const key = ring.keys.get(v["kid"]);
  if (!key) return null;
  try {
    const iv = Buffer.from(v["iv"], "base64url");
    const all = Buffer.from(v["ct"], "base64url");
    if (iv.length !== 12 || all.length < 16) return null;
    const decipher = createDecipheriv("aes-256-gcm", key, iv);
    decipher.setAAD(AAD);
    decipher.setAuthTag(all.subarray(all.length - 16));
    const text = Buffer.concat([decipher.update(all.subarray(0, all.length - 16)), decipher.final()]).toString("utf8");
    return { value: JSON.parse(text) as unknown };
  } catch {
    return null;
  }
}

/** Largest nesting accepted anywhere in a request body (deeper JSON is refused before any recursion). */
export const MAX_JSON_DEPTH = 64;

/** Nesting depth of a parsed JSON value, computed without recursion; stops counting past `cap`. */
export function jsonDepth(root: unknown, cap = MAX_JSON_DEPTH + 1): number {
  let max = 0;
  const stack: Array<[unknown, number]> = [[root, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (d > max) max = d;
    if (max >= cap) return max;
    if (Array.isArray(v)) for (const x of v) stack.push([x, d + 1]);
    else if (isRecord(v)) for (const x of Object.values(v)) stack.push([x, d + 1]);
  }
  return max;
}

/** Paths are dot-separated keys (array indexes as numbers): `payload.credentials.0.token`. */
export const SENSITIVE_PATH = /^[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]+){0,31}$/;

/**
 * Returns a copy of `root` with the value at each path sealed. `what` names the body in errors.
 * Every path must exist; `allowedRoots` limits which top-level fields may be marked.
 */
export function sealPaths(root: Record<string, unknown>, paths: readonly string[], ring: Keyring | null, allowedRoots: readonly string[]): Record<string, unknown> {
  if (paths.length === 0) return root;
  if (!ring) throw new EncryptionUnavailableError();
  const copy = structuredClone(root);
  for (const [i, path] of paths.entries()) {
    const segs = path.split(".");
    if (!allowedRoots.includes(segs[0]!) || segs.length < 2) {
      throw new ValidationError(`sensitive.${i}: "${path}" must point inside ${allowedRoots.map((r) => `${r}.`).join(" or ")}`, { path: ["sensitive", i] });
    }
    let parent: unknown = copy;
    for (const seg of segs.slice(0, -1)) parent = step(parent, seg);
    const last = segs[segs.length - 1]!;
    const value = step(parent, last);
    if (value === undefined) throw new ValidationError(`sensitive.${i}: "${path}" is not in the body`, { path: ["sensitive", i] });
    if (looksSealed(value)) continue; // already sealed (e.g. a replay that kept an envelope)
    if (Array.isArray(parent)) parent[Number(last)] = seal(value, ring);
    else (parent as Record<string, unknown>)[last] = seal(value, ring);
  }
  return copy;
}

function step(v: unknown, seg: string): unknown {
  if (Array.isArray(v)) return /^\d+$/.test(seg) ? v[Number(seg)] : undefined;
  if (isRecord(v) && Object.prototype.hasOwnProperty.call(v, seg)) return v[seg];
  return undefined;
}

type Visit = (v: Record<string, unknown>, path: string) => unknown;

/** Rebuilds `root` replacing every envelope by `visit(envelope, path)`; iterative-safe because depth is bounded on input. */
function mapSealed(root: unknown, path: string, visit: Visit, depth = 0): unknown {
  if (depth > MAX_JSON_DEPTH * 2) return root;
  if (looksSealed(root)) return visit(root, path);
  if (Array.isArray(root)) return root.map((x, i) => mapSealed(x, path ? `${path}.${i}` : String(i), visit, depth + 1));
  if (isRecord(root)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(root)) out[k] = mapSealed(x, path ? `${path}.${k}` : k, visit, depth + 1);
    return out;
  }
  return root;
}

/** Opens every envelope in `root`. Envelopes that cannot be opened stay sealed and are listed. */
export function openAll(root: unknown, ring: Keyring | null): { value: unknown; undecryptable: string[] } {
  const undecryptable: string[] = [];
  const value = mapSealed(root, "", (env, path) => {
    const opened = unseal(env, ring);
    if (opened) return opened.value;
    undecryptable.push(path);
    return env;
  });
  return { value, undecryptable };
}

/** Paths of every envelope in `root`. */
export function sealedPaths(root: unknown): string[] {
  const out: string[] = [];
  mapSealed(root, "", (env, path) => {
    out.push(path);
    return env;
  });
  return out;
}

/**
 * Refuses input carrying an envelope this deployment did not make: producers cannot plant fake
 * ciphertext, but a replay may keep the envelopes it was shown.
 */
export function assertAuthenticEnvelopes(root: unknown, ring: Keyring | null, what: string): void {
  mapSealed(root, "", (env, path) => {
    if (!unseal(env, ring)) throw new ValidationError(`${what}.${path}: "${SEALED_MARKER}" is reserved for values this service encrypted`, { path: [what, ...path.split(".")] });
    return env;
  });
}

/**
 * A request's fields as they may be stored: refuses envelopes under `roots` that this deployment
 * did not make (named `<where>.<root>.…`), then seals the `sensitive` paths. Refused without a
 * keyring when there is anything to seal.
 */
export function sealFields<T extends object>(root: T, roots: readonly string[], sensitive: readonly string[], ring: Keyring | null, where = ""): T {
  for (const r of roots) assertAuthenticEnvelopes((root as Record<string, unknown>)[r], ring, where ? `${where}.${r}` : r);
  return sealPaths(root as Record<string, unknown>, sensitive, ring, roots) as T;
}

/**
 * An edited payload for a DLQ replay, as it may be stored: refuses envelopes this deployment did
 * not make, then seals `sensitive` (paths into `{payload}`) or, by default, every path that was
 * sealed in the stored payload and is still in the edit — so a payload read decrypted, edited and
 * replayed goes back to Redis encrypted where it was before. Without a keyring such paths are
 * refused (EncryptionUnavailableError), never stored in clear.
 */
export function sealReplayPayload(stored: unknown, edited: unknown, sensitive: readonly string[] | undefined, ring: Keyring | null, where = ""): unknown {
  assertAuthenticEnvelopes(edited, ring, where ? `${where}.payload` : "payload");
  const paths = sensitive ?? sealedPaths(stored).filter((p) => hasPath(edited, p.split("."))).map((p) => `payload.${p}`);
  return sealPaths({ payload: edited }, paths, ring, ["payload"])["payload"];
}

function hasPath(root: unknown, segs: readonly string[]): boolean {
  let v: unknown = root;
  for (const s of segs) {
    if (Array.isArray(v)) v = /^\d+$/.test(s) ? v[Number(s)] : undefined;
    else if (typeof v === "object" && v !== null && Object.prototype.hasOwnProperty.call(v, s)) v = (v as Record<string, unknown>)[s];
    else return false;
  }
  return v !== undefined;
}
