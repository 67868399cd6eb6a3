#!/usr/bin/env node
/**
 * The worker container's entry point (`node dist/worker.mjs`, or `tsx packages/worker/src/main.ts`
 * in development). See run.ts and docs/worker.md.
 */
import { runWorkerProcess } from "./run.ts";

const code = await runWorkerProcess({ argv: process.argv.slice(2), env: process.env });
process.exit(code);
