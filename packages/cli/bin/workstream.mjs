#!/usr/bin/env node
// The `workstream` command. Runs the bundled CLI (dist/cli.mjs, from `npm run build:cli`) when it
// exists, else the TypeScript source through tsx's loader, so it works in development with no build.
import { existsSync } from "node:fs";

const bundled = new URL("../dist/cli.mjs", import.meta.url);
if (existsSync(bundled)) {
  await import(bundled.href);
} else {
  const { register } = await import("tsx/esm/api");
  register();
  await import(new URL("../src/main.ts", import.meta.url).href);
}
