#!/usr/bin/env node
/**
 * `keyline`: the rotation CLI. `keyline status`, `keyline reload`, `keyline promote
 * anthropic|fyers`, `keyline rotate anthropic|fyers` against a deployment URL (`--url` or
 * `KEYLINE_URL`), with the admin token from `KEYLINE_ADMIN_TOKEN` (or `ADMIN_TOKEN`). Needs
 * Node 22: in the repository `npm run cli -- status` or `npx keyline status` (through
 * `bin/keyline.js`, with any Node on PATH), or `node src/cli/main.ts status`.
 */
import { runCli } from './run.ts'

process.exitCode = await runCli(process.argv.slice(2), {
  env: process.env,
  stdin: process.stdin,
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
})
