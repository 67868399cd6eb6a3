/**
 * Evaluates the real `run()` of sst.config.ts offline, the way `sst deploy` would, minus AWS.
 *
 * Like the SST CLI, it bundles sst.config.ts with esbuild (the platform's `run` shim injected,
 * `$app`/`$cli`/`$dev` defined, `aws` and `sst` imported into every app file), then runs the
 * bundle inside a Pulumi stack with mocks (mocks.ts). The bundle runs in a child process: Pulumi
 * keeps global state per process, and each stage needs a clean one.
 *
 * Leans on SST internals (src/auto/run.ts, src/shim/run.js, the RPC names), hence the exact
 * `sst` pin in package.json.
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import type { SettingsOverrides } from "../../../infra/settings.ts";
import type { Evaluation } from "./mocks.ts";

export type { Evaluation, RecordedResource, RecordedRpc } from "./mocks.ts";

const repo = path.resolve(import.meta.dirname, "../../..");
const platform = path.join(repo, ".sst/platform");
const mocks = path.join(import.meta.dirname, "mocks.ts");

/** Values for every secret, so `sst.Secret` resolves (unset secrets fail the deploy, as in AWS). */
export const SECRET_NAMES = [
  "UpstashRedisUrl",
  "UpstashRedisToken",
  "UpstashRedisTcpUrl",
  "QStashToken",
  "QStashCurrentSigningKey",
  "QStashNextSigningKey",
  "AdminBootstrapKey",
  "PayloadEncryptionKey",
] as const;

export function assertPlatformInstalled(): void {
  if (!fs.existsSync(path.join(platform, "config.d.ts"))) {
    throw new Error(
      ".sst/platform is missing: the infra tests need SST's platform. Run `bash scripts/sst-install-offline.sh` first.",
    );
  }
}

/**
 * Replaces parts of the stage's settings for one evaluation, as if infra/settings.ts said so: every
 * infra module's `settingsFor(stage)` becomes `settingsFor(stage, overrides)` (still validated).
 * JSON only: it is written into the bundle.
 */
export type EvaluationOverrides = SettingsOverrides;

export async function evaluateApp(stage: string, overrides?: EvaluationOverrides): Promise<Evaluation> {
  assertPlatformInstalled();
  // SST writes a .dockerignore into the image context during run(): point the app's root at a
  // scratch directory so evaluating never touches the repo.
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), `ws-infra-${stage}-`));
  // The bundle must sit inside .sst/platform so its external imports (@pulumi/*) resolve there.
  const bundle = path.join(platform, `workstream-infra-test.${stage}.${process.pid}.${++bundles}.mjs`);
  try {
    await buildBundle(stage, scratch, bundle, overrides);
    return await runBundle(stage, bundle, path.join(scratch, "evaluation.json"));
  } finally {
    fs.rmSync(bundle, { force: true });
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

let bundles = 0;

async function buildBundle(stage: string, scratch: string, bundle: string, overrides?: EvaluationOverrides): Promise<void> {
  // What the CLI derives from app() and its own state; the tests check app() itself separately.
  const prod = stage === "prod";
  const app = {
    name: "workstream",
    stage,
    removal: prod ? "retain" : "remove",
    protect: prod,
    home: "aws",
    providers: { aws: { region: "us-east-1" } },
  };
  const cli = {
    command: "deploy",
    dev: false,
    paths: { home: scratch, root: scratch, work: scratch, platform },
    state: { version: {} },
  };

  const esbuild = (await import(pathToFileURL(path.join(platform, "node_modules/esbuild/lib/main.js")).href)) as {
    build(options: Record<string, unknown>): Promise<unknown>;
  };
  const prelude = "workstream-infra-prelude";
  const settingsShim = "workstream-infra-settings";
  const settingsFile = path.join(repo, "infra/settings.ts");
  await esbuild.build({
    stdin: {
      contents: [
        `import ${JSON.stringify(prelude)};`,
        `import { writeWhenSettled } from ${JSON.stringify(mocks)};`,
        `import { run } from ${JSON.stringify(path.join(platform, "src/auto/run.ts"))};`,
        `import mod from ${JSON.stringify(path.join(repo, "sst.config.ts"))};`,
        `import { runInPulumiStack } from "@pulumi/pulumi/runtime/stack.js";`,
        `const outputs = await runInPulumiStack(() => run(mod.run));`,
        `const app = await mod.app({ stage: $app.stage });`,
        `writeWhenSettled(process.env.WORKSTREAM_INFRA_OUT, $app.stage, $cli.paths.root, outputs, app);`,
      ].join("\n"),
      resolveDir: repo,
      sourcefile: "evaluate-entry.ts",
      loader: "ts",
    },
    // The same banner and options the SST CLI uses for sst.config.ts.
    banner: {
      js: [
        `import { createRequire as topLevelCreateRequire } from "module";`,
        `const require = topLevelCreateRequire(import.meta.url);`,
        `import { fileURLToPath as topLevelFileUrlToPath, URL as topLevelURL } from "url";`,
        `const __filename = topLevelFileUrlToPath(import.meta.url);`,
        `const __dirname = topLevelFileUrlToPath(new topLevelURL(".", import.meta.url));`,
      ].join("\n"),
    },
    format: "esm",
    platform: "node",
    bundle: true,
    outfile: bundle,
    logLevel: "error",
    mainFields: ["module", "main"],
    nodePaths: [path.join(platform, "node_modules")],
    external: ["@pulumi/*", "undici", "@pulumiverse/*", "@sst-provider/*", "@aws-sdk/*", "esbuild", "archiver", "glob", "vite"],
    define: { $app: JSON.stringify(app), $cli: JSON.stringify(cli), $dev: "false" },
    inject: [path.join(platform, "src/shim/run.js")],
    plugins: [
      {
        name: "workstream-infra-test",
        setup(b: PluginBuild) {
          // Mocks go in first, before any component module runs.
          b.onResolve({ filter: new RegExp(`^${prelude}$`) }, () => ({ path: prelude, namespace: prelude }));
          b.onLoad({ filter: /.*/, namespace: prelude }, () => ({
            contents: [
              `import * as pulumi from "@pulumi/pulumi";`,
              `import { installMocks } from ${JSON.stringify(mocks)};`,
              `await installMocks(pulumi, $app.name, $app.stage);`,
            ].join("\n"),
            resolveDir: repo,
            loader: "ts",
          }));
          // Overrides: infra modules' `./settings` resolves to a shim around the real module.
          if (overrides) {
            b.onResolve({ filter: /^\.\/settings$/ }, (a) =>
              a.importer && path.dirname(a.importer) === path.dirname(settingsFile)
                ? { path: settingsShim, namespace: settingsShim }
                : undefined,
            );
            b.onLoad({ filter: /.*/, namespace: settingsShim }, () => ({
              contents: [
                `import { settingsFor as real } from ${JSON.stringify(settingsFile)};`,
                `export * from ${JSON.stringify(settingsFile)};`,
                `const overrides = ${JSON.stringify(overrides)};`,
                `export function settingsFor(stage: string) { return real(stage, overrides); }`,
              ].join("\n"),
              resolveDir: repo,
              loader: "ts",
            }));
          }
          // What the SST CLI does to app files: `aws` and `sst` are in scope without imports.
          b.onLoad({ filter: /\.(js|ts|jsx|tsx)$/ }, (a) => {
            if (a.path.includes(`${path.sep}.sst${path.sep}`) || a.path.startsWith(import.meta.dirname)) return undefined;
            const globals = `import * as aws from "@pulumi/aws";\nimport * as sst from ${JSON.stringify(path.join(platform, "src/components"))};\n`;
            return { contents: globals + fs.readFileSync(a.path, "utf8"), loader: path.extname(a.path).slice(1) };
          });
        },
      },
    ],
  });

}

async function runBundle(stage: string, bundle: string, outFile: string): Promise<Evaluation> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    WORKSTREAM_INFRA_OUT: outFile,
    // Everything AWS is mocked; fake credentials make sure a slip can never reach a real account.
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_ACCESS_KEY_ID: "mock",
    AWS_SECRET_ACCESS_KEY: "mock",
  };
  for (const k of ["AWS_PROFILE", "AWS_SESSION_TOKEN", "SST_AWS_ACCESS_KEY_ID", "SST_AWS_SECRET_ACCESS_KEY"]) delete env[k];
  for (const s of SECRET_NAMES) env[`SST_SECRET_${s}`] = `test-${s}`;
  let stderr: string;
  try {
    ({ stderr } = await promisify(execFile)(process.execPath, [bundle], { env, timeout: 60_000, maxBuffer: 16 << 20 }));
  } catch (e) {
    const err = e as Error & { stdout?: string; stderr?: string };
    throw new Error(`evaluating sst.config.ts (stage ${stage}) failed:\n${err.stderr ?? ""}\n${err.stdout ?? ""}`);
  }
  if (!fs.existsSync(outFile)) throw new Error(`evaluating sst.config.ts (stage ${stage}) wrote no result`);
  return { ...(JSON.parse(fs.readFileSync(outFile, "utf8")) as Omit<Evaluation, "stderr">), stderr };
}

/** The slice of esbuild's plugin API used above (esbuild's types live in .sst/platform). */
interface PluginBuild {
  onResolve(o: { filter: RegExp }, cb: (a: { path: string; importer: string }) => { path: string; namespace: string } | undefined): void;
  onLoad(
    o: { filter: RegExp; namespace?: string },
    cb: (a: { path: string }) => { contents: string; loader: string; resolveDir?: string } | undefined,
  ): void;
}
