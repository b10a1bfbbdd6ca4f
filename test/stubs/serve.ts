/**
 * Standalone stub upstreams for demos: `npx node test/stubs/serve.ts`. Ports from
 * `ANTHROPIC_STUB_PORT` (8788) and `FYERS_STUB_PORT` (8789); accepted credentials from
 * `STUB_ANTHROPIC_KEYS`, `STUB_FYERS_TOKENS` (entries may be `<client_id>:<token>`),
 * `STUB_FYERS_CLIENT_IDS`, `STUB_FYERS_REFRESH_TOKENS`, `STUB_FYERS_APP_SECRETS` and
 * `STUB_FYERS_PINS` (all comma-separated).
 * Prints `{"anthropic":url,"fyers":url}` on one line, then serves until SIGINT/SIGTERM.
 */
import { startAnthropicStub } from './anthropic.ts'
import { startFyersStub } from './fyers.ts'

const list = (name: string): string[] =>
  (process.env[name] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)

const port = (name: string, fallback: number): number => {
  const value = Number(process.env[name] ?? fallback)
  if (!Number.isInteger(value) || value < 0 || value > 65_535) throw new Error(`${name}: bad port`)
  return value
}

const anthropic = await startAnthropicStub({
  apiKeys: list('STUB_ANTHROPIC_KEYS'),
  port: port('ANTHROPIC_STUB_PORT', 8788),
})
/** `STUB_FYERS_TOKENS` entries may be `<client_id>:<token>` pairs. */
const fyersTokens = list('STUB_FYERS_TOKENS').map((entry) => {
  const colon = entry.indexOf(':')
  return colon > 0
    ? { clientId: entry.slice(0, colon), token: entry.slice(colon + 1) }
    : { token: entry }
})
const fyers = await startFyersStub({
  accessTokens: fyersTokens.map((t) => t.token),
  clientIds: [
    ...list('STUB_FYERS_CLIENT_IDS'),
    ...fyersTokens.flatMap((t) => (t.clientId ? [t.clientId] : [])),
  ],
  refreshTokens: list('STUB_FYERS_REFRESH_TOKENS'),
  appSecrets: list('STUB_FYERS_APP_SECRETS'),
  pins: list('STUB_FYERS_PINS'),
  port: port('FYERS_STUB_PORT', 8789),
})
console.log(JSON.stringify({ anthropic: anthropic.url, fyers: fyers.url }))

const stop = async () => {
  await Promise.all([anthropic.close(), fyers.close()])
  process.exit(0)
}
process.once('SIGINT', stop)
process.once('SIGTERM', stop)
