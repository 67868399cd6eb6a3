export * from "./api-keys.ts";
export * from "./encryption.ts";
export * from "./audit.ts";
export { scriptRunner, type ScriptRunner } from "./runner.ts";
