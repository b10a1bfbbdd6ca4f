import { chmod, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

/** One call the stand-in wrangler received: its arguments and its stdin. */
export interface WranglerCall {
  argv: string[]
  stdin: string
}

/**
 * Writes a stand-in `wrangler` into `dir` (put `dir` first on PATH) that appends each call to
 * `calls.jsonl`, runs `hook.mjs` from `dir` when present (to act on a call, e.g. restart a
 * deployment with new bindings), and exits with the hook's code or 0.
 */
export const installFakeWrangler = async (
  dir: string
): Promise<{ calls: () => Promise<WranglerCall[]> }> => {
  const log = join(dir, 'calls.jsonl')
  const script = `#!${process.execPath}
import { appendFileSync, existsSync } from 'node:fs'
const chunks = []
for await (const chunk of process.stdin) chunks.push(chunk)
const call = { argv: process.argv.slice(2), stdin: Buffer.concat(chunks).toString('utf8') }
appendFileSync(${JSON.stringify(log)}, JSON.stringify(call) + '\\n')
let code = 0
const hook = ${JSON.stringify(join(dir, 'hook.mjs'))}
if (existsSync(hook)) code = (await (await import(hook)).default(call)) ?? 0
process.exit(code)
`
  const path = join(dir, 'wrangler')
  await writeFile(path, script)
  await chmod(path, 0o755)
  return {
    calls: async () => {
      const text = await readFile(log, 'utf8').catch(() => '')
      return text
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as WranglerCall)
    },
  }
}
