/**
 * `npm run demo`: the proxy on http://127.0.0.1:8787 (or `PORT`) in front of local stub
 * upstreams that speak Anthropic's and Fyers' wire formats, with throwaway credentials made up
 * at start, so a newcomer sees a full round trip (streaming included), the admin API and the
 * CLI without real keys or a network.
 */

import { createServer } from 'node:net'
import { EXAMPLE_MODEL } from '../src/catalog/anthropic.ts'
import { runCli } from '../src/cli/run.ts'
import { serveNode } from '../src/entries/node.ts'
import { listeningUrl } from '../src/entries/serve.ts'
import {
  generateStubKeys,
  startAnthropicStub,
  startFyersStub,
  stubBindings,
  stubOptionsFor,
} from '../test/stubs/index.ts'

const keys = generateStubKeys()
const options = stubOptionsFor(keys)
const [anthropic, fyers] = await Promise.all([
  startAnthropicStub(options.anthropic),
  startFyersStub(options.fyers),
])
/** A port the OS says is free now (for `PORT=0`): the Fyers redirect URI must name it before start. */
const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number }
      probe.close(() => resolve(port))
    })
  })
const port = process.env.PORT && process.env.PORT !== '0' ? process.env.PORT : '8787'
const chosenPort = process.env.PORT === '0' ? String(await freePort()) : port
const clientToken = `demo-client-${crypto.randomUUID()}`
const adminToken = `demo-admin-${crypto.randomUUID()}`
Object.assign(process.env, {
  // A named client token: the access log and the metrics say `demo` called.
  ...stubBindings(keys, { anthropic: anthropic.url, fyers: fyers.url }, `demo=${clientToken}`),
  ADMIN_TOKEN: adminToken,
  // What the stub Fyers needs for `keyline fyers refresh` and `keyline fyers login`.
  FYERS_APP_SECRET: keys.fyers.appSecret,
  FYERS_PIN: keys.fyers.pin,
  FYERS_REFRESH_TOKEN: keys.fyers.refreshToken,
  FYERS_REDIRECT_URI: `${listeningUrl(process.env.HOST || '127.0.0.1', Number(chosenPort))}/admin/fyers/callback`,
  PORT: chosenPort,
})
const { url, close } = await serveNode()
const auth = `-H 'authorization: Bearer ${clientToken}'`
const admin = `-H 'authorization: Bearer ${adminToken}'`
const body = (stream: boolean) =>
  JSON.stringify({
    model: EXAMPLE_MODEL,
    max_tokens: 64,
    ...(stream ? { stream: true } : {}),
    messages: [{ role: 'user', content: 'Hello' }],
  })
console.log(`keyline demo: proxy ${url}, stub Anthropic ${anthropic.url}, stub Fyers ${fyers.url}

client token (KEYLINE_CLIENT_TOKENS=demo=…): ${clientToken}
admin token (ADMIN_TOKEN):                  ${adminToken}

Try, from another terminal:
  curl -s ${url}/healthz
  curl -s ${url}/v1/models ${auth}
  curl -s ${url}/v1/messages ${auth} -H 'content-type: application/json' \\
    -d '${body(false)}'
  curl -sN ${url}/v1/messages ${auth} -H 'content-type: application/json' \\
    -d '${body(true)}'
  curl -s ${url}/v1/messages/count_tokens ${auth} -H 'content-type: application/json' \\
    -d '{"model":"${EXAMPLE_MODEL}","messages":[{"role":"user","content":"Hello"}]}'
  curl -s '${url}/v1/quotes?symbols=NSE:SBIN-EQ,NSE:TCS-EQ' ${auth}

The admin API:
  curl -s ${url}/admin/keys/status ${admin}
  curl -s -X POST ${url}/admin/keys/reload ${admin}

The CLI (the same admin API):
  export KEYLINE_URL=${url} KEYLINE_ADMIN_TOKEN=${adminToken}
  npm run -s cli -- status
  npm run -s cli -- reload
  npm run -s cli -- fyers refresh   # a new Fyers access token from the refresh token and PIN
  npm run -s cli -- fyers login     # open the URL it prints: the stub Fyers signs you in at once

The Anthropic SDK:
  new Anthropic({ baseURL: '${url}', apiKey: '${clientToken}' })
`)

// Shows the CLI working against this very proxy, as the commands above do.
console.log('$ npm run -s cli -- status')
await runCli(['status'], {
  env: { KEYLINE_URL: url, KEYLINE_ADMIN_TOKEN: adminToken },
  stdin: process.stdin,
  out: (line) => console.log(line),
  err: (line) => console.error(line),
})
console.log('\nCtrl-C stops everything.')

const stop = async (): Promise<void> => {
  await close()
  await Promise.all([anthropic.close(), fyers.close()])
  process.exit(0)
}
process.once('SIGINT', stop)
process.once('SIGTERM', stop)
