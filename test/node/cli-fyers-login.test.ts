import { PassThrough } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { runCli } from '../../src/cli/run.ts'
import { proxyFixture } from '../proxy/fixture.ts'

/**
 * `keyline fyers login` against a keyline app and the Fyers stub: it prints the sign-in URL,
 * the test plays the browser (opens it, follows Fyers' redirect to the callback), and the CLI
 * ends once the status shows the signed-in token. `keyline fyers refresh` refreshes it.
 */
const ADMIN = `admin-${crypto.randomUUID()}`
const REDIRECT = 'http://keyline.test/admin/fyers/callback'

const setup = async () => {
  const f = await proxyFixture({ ADMIN_TOKEN: ADMIN, FYERS_REDIRECT_URI: REDIRECT })
  const env = {
    ...f.env,
    FYERS_APP_SECRET: f.keys.fyers.appSecret,
    FYERS_REFRESH_TOKEN: f.keys.fyers.refreshToken,
    FYERS_PIN: f.keys.fyers.pin,
  }
  // The CLI's fetch reaches the app in process, as it would over HTTP.
  const appFetch = (async (input: RequestInfo | URL, init?: RequestInit) =>
    f.app.request(String(input), init, env)) as typeof fetch
  const out: string[] = []
  const err: string[] = []
  const cli = (...argv: string[]) =>
    runCli([...argv, '--url', 'http://keyline.test', '--interval', '0.05'], {
      env: { KEYLINE_ADMIN_TOKEN: ADMIN },
      stdin: new PassThrough(),
      out: (line) => out.push(line),
      err: (line) => err.push(line),
      fetch: appFetch,
    })
  return { f, env, out, err, cli }
}

describe('keyline fyers', () => {
  it('login prints the sign-in URL and waits until keyline has the new token', async () => {
    const { f, env, out, err, cli } = await setup()
    const running = cli('fyers', 'login')
    await expect.poll(() => out.find((l) => l.includes('/api/v3/generate-authcode'))).toBeTruthy()
    const url = out.find((l) => l.includes('/api/v3/generate-authcode')) as string
    // The browser: Fyers signs the user in and sends them back to keyline's callback.
    const back = await fetch(url, { redirect: 'manual' })
    const callback = new URL(back.headers.get('location') ?? '')
    expect(`${callback.origin}${callback.pathname}`).toBe(REDIRECT)
    const page = await f.app.request(`${callback.pathname}${callback.search}`, {}, env)
    expect(page.status).toBe(200)
    expect(await running, err.join('\n')).toBe(0)
    expect(out.at(-1)).toMatch(/^Signed in: the Fyers access token is ….{4} from fyers-sign-in$/)
    const issued = (await f.fyers.state()).sets.accessTokens ?? []
    for (const token of issued) expect(out.join('\n')).not.toContain(token)
  })

  it('login gives up with a sentence when the sign-in does not come', async () => {
    const { out, err, cli } = await setup()
    expect(await cli('fyers', 'login', '--timeout', '0.3')).toBe(1)
    expect(out.some((l) => l.includes('/api/v3/generate-authcode'))).toBe(true)
    expect(err.join('\n')).toMatch(/Timed out after 0 s waiting for the sign-in to complete/)
  })

  it('refresh refreshes the access token now, and says why when it cannot', async () => {
    const { f, out, err, cli } = await setup()
    expect(await cli('fyers', 'refresh'), err.join('\n')).toBe(0)
    expect(out.at(-1)).toMatch(/^Refreshed the Fyers access token: now ….{4}$/)
    await f.fyers.keys({ set: 'pins', replace: ['0000'] })
    expect(await cli('fyers', 'refresh')).toBe(1)
    expect(err.at(-1)).toMatch(/fyers_code_-16/)
  })
})
