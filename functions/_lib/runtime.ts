/**
 * The engine and API service, built once per cold start (on the first request, so a bad
 * configuration answers with a 500 naming the variable instead of crashing the container).
 */
import { ApiService, connect, Engine, type RedisPort } from "../../packages/core/src/index.ts";
import { API_ROUTES } from "../routes.ts";
import { apiConfigFromEnv } from "./config.ts";
import { apiHooks, workerControl } from "./integrations.ts";

export interface Runtime {
  readonly engine: Engine;
  readonly api: ApiService;
  readonly port: RedisPort;
}

let current: Runtime | undefined;

export function runtime(): Runtime {
  if (current) return current;
  const config = apiConfigFromEnv();
  const port = connect(config.engine.connection);
  const engine = new Engine({ redis: port, settings: config.engine.settings });
  const api = new ApiService({
    engine,
    redis: port,
    keyring: config.keyring,
    bootstrapAdmin: config.bootstrapAdmin,
    routes: API_ROUTES,
    maxBodyBytes: config.maxBodyBytes,
    auditMaxEntries: config.auditMaxEntries,
    hooks: apiHooks(engine, config.notify),
    workers: workerControl(engine, port),
  });
  if (!config.bootstrapAdmin) console.warn("workstream api: WORKSTREAM_ADMIN_KEY (AdminBootstrapKey) is not set: no admin key can sign in");
  current = { engine, api, port };
  return current;
}

/** Closes the runtime's connections (local stack shutdown, tests). The next call to runtime() builds a new one. */
export async function closeRuntime(): Promise<void> {
  const rt = current;
  current = undefined;
  await rt?.port.close();
}
