import { createHash } from "node:crypto";
import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { verifyQStashSignature } from "../../packages/core/src/index.ts";

const CURRENT = "sig_current_test_key_0123456789";
const NEXT = "sig_next_test_key_9876543210";
const URL_ = "https://api.example.com/v1/push";
const BODY = JSON.stringify({ jobId: "j1", queue: "default", reason: "enqueued" });

const b64url = (s: string) => createHash("sha256").update(s).digest("base64url");

async function sign(opts: { key?: string; body?: string; url?: string; exp?: number; nbf?: number; iss?: string } = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ body: b64url(opts.body ?? BODY) })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuer(opts.iss ?? "Upstash")
    .setSubject(opts.url ?? URL_)
    .setIssuedAt(now)
    .setNotBefore(opts.nbf ?? now)
    .setExpirationTime(opts.exp ?? now + 300)
    .setJti(`jwt_${Math.random().toString(36).slice(2)}`)
    .sign(new TextEncoder().encode(opts.key ?? CURRENT));
}

const check = (signature: string | null, over: { body?: string; url?: string } = {}) =>
  verifyQStashSignature({ signature, body: over.body ?? BODY, url: over.url ?? URL_, currentSigningKey: CURRENT, nextSigningKey: NEXT });

describe("verifyQStashSignature", () => {
  it("accepts a valid signature, and one made with the next key during rotation", async () => {
    expect(await check(await sign())).toEqual({ valid: true });
    expect(await check(await sign({ key: NEXT }))).toEqual({ valid: true });
  });

  it("returns 401 results (never throws) for a wrong body, wrong key, expired token, wrong URL, wrong issuer, garbage or no header", async () => {
    const cases: Array<[string, Promise<Awaited<ReturnType<typeof check>>>]> = [
      ["wrong body", check(await sign(), { body: `${BODY} ` })],
      ["wrong key", check(await sign({ key: "sig_attacker_key" }))],
      ["expired", check(await sign({ exp: Math.floor(Date.now() / 1000) - 600, nbf: Math.floor(Date.now() / 1000) - 900 }))],
      ["wrong url", check(await sign({ url: "https://evil.example.com/v1/push" }))],
      ["wrong issuer", check(await sign({ iss: "Someone" }))],
      ["garbage", check("not-a-jwt")],
    ];
    for (const [name, result] of cases) expect(await result, name).toMatchObject({ valid: false, reason: "invalid_signature", status: 401 });
    expect(await check(null)).toMatchObject({ valid: false, reason: "missing_signature", status: 401 });
  });
});
