/// <reference lib="deno.ns" />
import assert from 'node:assert/strict'
import { type DenoUpstream, startUpstream } from './support/upstream.ts'

/**
 * A Deno app that imports keyline as the README shows: through its `deno.json` import map
 * (`"keyline": "npm:keyline@^0.1.0"`, what `deno add npm:keyline` writes) and through the
 * `npm:` specifier itself. The package is built from this repository (`tsc -p
 * tsconfig.build.json`, what `npm pack` ships) into a temporary directory and installed in the
 * app's `node_modules`, as `npm install keyline` would (`"nodeModulesDir": "manual"`: nothing
 * is fetched from a registry); the app runs as its own `deno run` process against a tiny
 * Anthropic upstream on loopback.
 */
const ROOT = new URL('../../', import.meta.url).pathname.replace(/\/$/, '')
const KEY = `sk-ant-test-${crypto.randomUUID()}`

const APP = `import { Hono } from 'hono'
import { onError, secrets, type SecretsVariables } from 'keyline'
import { fingerprint } from 'npm:keyline@^0.1.0/secrets'

const app = new Hono<{ Variables: SecretsVariables }>()
app.use(secrets())
app.get('/summary', async (c) => {
  const message = await c.var.anthropic.messages.create({
    model: 'claude-sonnet-5-5',
    max_tokens: 64,
    messages: [{ role: 'user', content: 'Summarise the market' }],
  })
  const key = c.var.secrets.anthropic.credentials.apiKey.current
  return c.json({ message, key: key?.fingerprint, same: key ? fingerprint(key.reveal()) : null })
})
app.onError(onError)

Deno.serve({ hostname: '127.0.0.1', port: 0, onListen: ({ port }) => console.log('port=' + port) }, app.fetch)
`

const upstream = (): DenoUpstream => startUpstream({ key: KEY })

const run = async (command: string, args: string[], cwd: string) => {
  const result = await new Deno.Command(command, {
    args,
    cwd,
    stdout: 'piped',
    stderr: 'piped',
  }).output()
  const text = new TextDecoder()
  assert.equal(result.code, 0, `${command} ${args.join(' ')}: ${text.decode(result.stderr)}`)
}

Deno.test({
  name: 'a Deno app imports keyline through deno.json and the npm: specifier, and runs',
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: 'keyline-deno-app-' })
    const stub = upstream()
    let app: Deno.ChildProcess | undefined
    try {
      // The package as published: package.json and the built dist/, its dependencies installed.
      const pkg = `${dir}/keyline`
      await run(
        `${ROOT}/node_modules/.bin/tsc`,
        ['-p', 'tsconfig.build.json', '--outDir', `${pkg}/dist`],
        ROOT
      )
      await Deno.copyFile(`${ROOT}/package.json`, `${pkg}/package.json`)
      await Deno.symlink(`${ROOT}/node_modules`, `${pkg}/node_modules`)
      // The app: deno.json as `deno add npm:keyline npm:hono` leaves it, node_modules installed.
      const appDir = `${dir}/app`
      await Deno.mkdir(`${appDir}/node_modules`, { recursive: true })
      await Deno.symlink(pkg, `${appDir}/node_modules/keyline`)
      await Deno.symlink(`${ROOT}/node_modules/hono`, `${appDir}/node_modules/hono`)
      await Deno.writeTextFile(
        `${appDir}/deno.json`,
        JSON.stringify({
          nodeModulesDir: 'manual',
          imports: { keyline: 'npm:keyline@^0.1.0', hono: 'npm:hono@^4.12.21' },
        })
      )
      await Deno.writeTextFile(`${appDir}/main.ts`, APP)

      app = new Deno.Command(Deno.execPath(), {
        args: ['run', '--allow-net', '--allow-env', '--allow-read', 'main.ts'],
        cwd: appDir,
        env: { ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: stub.url, DENO_NO_UPDATE_CHECK: '1' },
        stdout: 'piped',
        stderr: 'inherit',
      }).spawn()
      const reader = app.stdout.pipeThrough(new TextDecoderStream()).getReader()
      let out = ''
      while (!/port=\d+/.test(out)) {
        const { value, done } = await reader.read()
        if (done) throw new Error(`the app exited before listening: ${out}`)
        out += value
      }
      reader.releaseLock()
      const port = /port=(\d+)/.exec(out)?.[1]
      const response = await fetch(`http://127.0.0.1:${port}/summary`)
      assert.equal(response.status, 200)
      const body = (await response.json()) as {
        message: { content: { text: string }[] }
        key: string
        same: string
      }
      assert.equal(body.message.content[0]?.text, 'Markets are calm.')
      assert.equal(body.key, `…${KEY.slice(-4)}`)
      assert.equal(body.same, body.key)
    } finally {
      app?.kill('SIGTERM')
      await app?.status
      await app?.stdout.cancel().catch(() => {})
      await stub.close()
      await Deno.remove(dir, { recursive: true })
    }
  },
})
