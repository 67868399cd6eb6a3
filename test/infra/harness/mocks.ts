/**
 * Runs inside the bundled app (see evaluate.ts), before any SST component is constructed:
 * Pulumi mocks that record every resource, plus a fake SST CLI RPC server on 127.0.0.1.
 *
 * The SST CLI (Go) normally serves RPC to the program; components call it to bootstrap the
 * account (`Provider.Aws.Bootstrap`: asset bucket, ECR repo) and to bundle each Lambda
 * (`Runtime.Build`). Here both are answered with fakes and the calls are recorded, so the tests
 * see exactly which handler and links each function was built with.
 *
 * `@pulumi/pulumi` is handed in by the bundle (it lives in .sst/platform, not in the repo's
 * node_modules), so this file only describes the small part of its API it uses.
 */
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";

export interface RecordedResource {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}
export interface RecordedRpc {
  method: string;
  args: Record<string, unknown>;
}
export interface Evaluation {
  stage: string;
  /** What the app saw as the repo root ($cli.paths.root). */
  root: string;
  resources: RecordedResource[];
  rpc: RecordedRpc[];
  outputs: Record<string, unknown>;
  /** What the config's own `app()` returns for this stage (removal, protect, home). */
  app: Record<string, unknown>;
  /** What the program wrote to stderr (console.warn at deploy); filled in by evaluate.ts. */
  stderr: string;
}

interface PulumiLike {
  runtime: {
    setMocks(
      mocks: {
        newResource(a: { type: string; name: string; inputs: Record<string, unknown> }): {
          id: string;
          state: Record<string, unknown>;
        };
        call(a: { token: string; inputs: Record<string, unknown> }): Record<string, unknown>;
      },
      project: string,
      stack: string,
      preview: boolean,
    ): Promise<void> | void;
  };
}

export const ACCOUNT = "123456789012";
export const REGION = "us-east-1";

const resources: RecordedResource[] = [];
const rpc: RecordedRpc[] = [];

/** Answers for the data-source calls ("invokes") SST components make while wiring. */
const invokes: Record<string, (inputs: Record<string, unknown>) => Record<string, unknown>> = {
  "aws:index/getRegion:getRegion": () => ({ name: REGION, region: REGION, id: REGION }),
  "aws:index/getCallerIdentity:getCallerIdentity": () => ({
    accountId: ACCOUNT,
    arn: `arn:aws:iam::${ACCOUNT}:user/mock`,
    userId: "mock",
  }),
  "aws:index/getPartition:getPartition": () => ({ partition: "aws", dnsSuffix: "amazonaws.com" }),
  "aws:index/getAvailabilityZones:getAvailabilityZones": () => ({
    names: [`${REGION}a`, `${REGION}b`],
    zoneIds: ["use1-az1", "use1-az2"],
  }),
  // Echo the statements like the provider does: SST only attaches an inline policy when they exist.
  "aws:iam/getPolicyDocument:getPolicyDocument": (inputs) => ({ ...inputs, json: JSON.stringify(inputs) }),
  "aws:ecr/getAuthorizationToken:getAuthorizationToken": () => ({
    proxyEndpoint: `https://${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com`,
    userName: "AWS",
    password: "mock",
  }),
};

/** Provider-computed outputs the app reads back (the API URL, the pushed image's digest). */
const outputsOf: Record<string, (name: string) => Record<string, unknown>> = {
  "aws:apigatewayv2/api:Api": (name) => ({ apiEndpoint: `https://${name}.execute-api.${REGION}.amazonaws.com` }),
  "docker-build:index:Image": () => ({ digest: "sha256:mock" }),
};

/** Pulumi marks secret values as `{ [SECRET_SIG]: SECRET_VALUE_SIG, value }`; tests want the value. */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";
function reveal(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(reveal);
  if (v === null || typeof v !== "object") return v;
  const o = v as Record<string, unknown>;
  if (SECRET_SIG in o) return reveal(o.value);
  return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, reveal(x)]));
}

let builds: string | undefined;
/** One scratch directory for all fake bundles, removed once the evaluation is written. */
function buildsDir(): string {
  builds ??= fs.mkdtempSync(path.join(os.tmpdir(), "ws-infra-builds-"));
  return builds;
}

function rpcResult(method: string, args: Record<string, unknown>): unknown {
  if (method === "Provider.Aws.Bootstrap") {
    return {
      asset: "mock-asset-bucket",
      assetEcrRegistryId: ACCOUNT,
      assetEcrUrl: `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/sst-asset`,
      state: "mock-state-bucket",
      appsyncHttp: "",
      appsyncRealtime: "",
    };
  }
  if (method === "Runtime.Build") {
    // A real (empty) bundle directory: the Function component zips whatever is there.
    const out = fs.mkdtempSync(path.join(buildsDir(), "fn-"));
    fs.writeFileSync(path.join(out, "index.mjs"), "export const handler = async () => ({});\n");
    return { handler: "index.handler", out, errors: [], sourcemaps: [] };
  }
  if (method === "Runtime.AddTarget") return {};
  throw new Error(`fake SST RPC: no answer for ${method} ${JSON.stringify(args)}`);
}

async function startRpcServer(): Promise<void> {
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      const msg = JSON.parse(body) as { id: unknown; method: string; params?: Record<string, unknown>[] };
      const args = msg.params?.[0] ?? {};
      rpc.push({ method: msg.method, args });
      try {
        res.end(JSON.stringify({ id: msg.id, result: rpcResult(msg.method, args), error: null }));
      } catch (e) {
        res.end(JSON.stringify({ id: msg.id, result: null, error: (e as Error).message }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  server.unref(); // never keeps the process alive: its end is the signal that wiring finished
  process.env.SST_SERVER = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  process.env.SST_AWS_REGION = REGION;
}

export async function installMocks(pulumi: PulumiLike, project: string, stage: string): Promise<void> {
  await startRpcServer();
  await pulumi.runtime.setMocks(
    {
      newResource({ type, name, inputs }) {
        resources.push({ type, name, inputs: reveal(inputs) as Record<string, unknown> });
        const arn = `arn:aws:mock:${REGION}:${ACCOUNT}:${name}`;
        return { id: `${name}-id`, state: { ...inputs, arn, name: inputs.name ?? name, ...outputsOf[type]?.(name) } };
      },
      call({ token, inputs }) {
        return invokes[token]?.(inputs) ?? inputs;
      },
    },
    project,
    stage,
    false,
  );
}

/**
 * Writes the evaluation once the event loop is empty, i.e. after every pending resource
 * registration and output callback has run: no arbitrary sleeps.
 */
export function writeWhenSettled(file: string, stage: string, root: string, outputs: unknown, app: unknown): void {
  process.once("beforeExit", () => {
    const result: Omit<Evaluation, "stderr"> = {
      stage,
      root,
      resources,
      rpc,
      outputs: (outputs ?? {}) as Record<string, unknown>,
      app: app as Record<string, unknown>,
    };
    fs.writeFileSync(file, JSON.stringify(result));
    if (builds) fs.rmSync(builds, { recursive: true, force: true });
  });
}
