/**
 * `npm run demo`: the proxy on http://127.0.0.1:8787 in front of local stub upstreams that
 * speak Anthropic's and Fyers' wire formats, with throwaway credentials made up at start, so
 * a newcomer sees a full round trip (streaming included) without real keys or a network.
 */
import { serveNode } from '../src/entries/node.ts'
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
const clientToken = `demo-client-${crypto.randomUUID()}`
Object.assign(
  process.env,
  stubBindings(keys, { anthropic: anthropic.url, fyers: fyers.url }, clientToken)
)
const { url, close } = await serveNode()
const auth = `-H 'authorization: Bearer ${clientToken}'`
console.log(`keyline demo: proxy ${url}, stub Anthropic ${anthropic.url}, stub Fyers ${fyers.url}

Try, from another terminal:
  curl -s ${url}/healthz
  curl -s ${url}/v1/models ${auth}
  curl -s ${url}/v1/messages ${auth} -H 'content-type: application/json' \\
    -d '{"model":"claude-sonnet-4-5","max_tokens":64,"messages":[{"role":"user","content":"Hello"}]}'
  curl -sN ${url}/v1/messages ${auth} -H 'content-type: application/json' \\
    -d '{"model":"claude-sonnet-4-5","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"Hello"}]}'
  curl -s '${url}/v1/quotes?symbols=NSE:SBIN-EQ,NSE:TCS-EQ' ${auth}

Ctrl-C stops everything.`)

const stop = async (): Promise<void> => {
  await close()
  await Promise.all([anthropic.close(), fyers.close()])
  process.exit(0)
}
process.once('SIGINT', stop)
process.once('SIGTERM', stop)
