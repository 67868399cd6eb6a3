/**
 * The API functions' configuration, read once per cold start. In AWS the values come from SST's
 * linked secrets (`Resource.X.value`); locally and in tests from environment variables, which win
 * when both are present. Everything is validated here, so a bad value fails with the variable's
 * name before the first request does anything.
 */
import { z } from "zod";
import { linkedEnv } from "./linked-env.ts";
import {
  envReader,
  bootstrapKey,
  configFromEnv,
  DEFAULT_AUDIT_MAX_ENTRIES,
  DEFAULT_MAX_BODY_BYTES,
  notifyConfigFromEnv,
  parseKeyring,
  type NotifyConfig,
  type EnvConfig,
  type Keyring,
} from "../../packages/core/src/index.ts";

export const API_ENV = {
  adminKey: "WORKSTREAM_ADMIN_KEY",
  encryptionKeys: "WORKSTREAM_ENCRYPTION_KEYS",
  maxBodyBytes: "WORKSTREAM_MAX_BODY_BYTES",
  auditMaxEntries: "WORKSTREAM_AUDIT_MAX_ENTRIES",
} as const;

export interface ApiConfig {
  engine: EnvConfig;
  notify: NotifyConfig;
  bootstrapAdmin: { id: string; hash: string } | null;
  keyring: Keyring | null;
  maxBodyBytes: number;
  auditMaxEntries: number;
}

const wholeNumber = (name: string, min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, `${name} must be a whole number`)
    .transform(Number)
    .pipe(z.number().int().min(min, `${name} must be ≥ ${min}`).max(max, `${name} must be ≤ ${max}`))
    .optional();

export function apiConfigFromEnv(processEnv: Record<string, string | undefined> = process.env): ApiConfig {
  const env = linkedEnv(processEnv);
  const read = envReader(env);
  const admin = env[API_ENV.adminKey];
  const keys = env[API_ENV.encryptionKeys];
  return {
    engine: configFromEnv(env),
    notify: notifyConfigFromEnv(env),
    bootstrapAdmin: admin ? bootstrapKey(admin, API_ENV.adminKey) : null,
    keyring: keys ? parseKeyring(keys, API_ENV.encryptionKeys) : null,
    maxBodyBytes: read(API_ENV.maxBodyBytes, wholeNumber(API_ENV.maxBodyBytes, 1024, 10 * 1024 * 1024)) ?? DEFAULT_MAX_BODY_BYTES,
    auditMaxEntries: read(API_ENV.auditMaxEntries, wholeNumber(API_ENV.auditMaxEntries, 100, 10_000_000)) ?? DEFAULT_AUDIT_MAX_ENTRIES,
  };
}
