/**
 * Inbound QStash calls (push deliveries, callbacks QStash makes to our endpoints) carry an
 * `Upstash-Signature` JWT. This checks it with the SDK's Receiver (current key, then the next key
 * during rotation) and returns a value: a bad or missing signature is an expected outcome that the
 * HTTP layer maps to 401, never an exception.
 */
import { Receiver } from "@upstash/qstash";
import { describeError } from "../maintenance/log.ts";

export const QSTASH_SIGNATURE_HEADER = "upstash-signature";

export interface VerifyQStashInput {
  /** The `Upstash-Signature` header (missing → invalid). */
  signature: string | null | undefined;
  /** The raw request body exactly as received. */
  body: string;
  /** The URL QStash was asked to call; checked against the token's `sub`. Omit only if the URL is unknowable. */
  url?: string;
  currentSigningKey: string;
  nextSigningKey: string;
  /** Seconds of clock skew tolerated on `exp`/`nbf` (default 5). */
  clockToleranceSeconds?: number;
}

export type SignatureCheck =
  | { valid: true }
  | { valid: false; reason: "missing_signature" | "invalid_signature"; detail: string; status: 401 };

export async function verifyQStashSignature(input: VerifyQStashInput): Promise<SignatureCheck> {
  if (!input.signature) return { valid: false, reason: "missing_signature", detail: "no Upstash-Signature header", status: 401 };
  const receiver = new Receiver({ currentSigningKey: input.currentSigningKey, nextSigningKey: input.nextSigningKey, devMode: false });
  try {
    const ok = await receiver.verify({
      signature: input.signature,
      body: input.body,
      ...(input.url !== undefined ? { url: input.url } : {}),
      clockTolerance: input.clockToleranceSeconds ?? 5,
    });
    return ok ? { valid: true } : { valid: false, reason: "invalid_signature", detail: "signature rejected", status: 401 };
  } catch (e) {
    return { valid: false, reason: "invalid_signature", detail: describeError(e).message, status: 401 };
  }
}
