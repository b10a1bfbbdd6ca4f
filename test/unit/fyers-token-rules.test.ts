import { describe, expect, it } from 'vitest'
import { jwtExpiry } from '../../src/catalog/fyers.ts'
import { FyersTokens } from '../../src/providers/fyers/tokens.ts'
import { SecretRegistry } from '../../src/secrets/registry.ts'

/** A JWT-shaped token whose `exp` is `exp` (seconds); unsigned, as only `exp` is read. */
const jwt = (exp: number): string => {
  const part = (value: unknown) =>
    btoa(JSON.stringify(value)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
  return `${part({ alg: 'none' })}.${part({ exp, jti: crypto.randomUUID() })}.${part('sig')}`
}

const ENV = {
  FYERS_CLIENT_ID: 'TESTAPP1-100',
  FYERS_ACCESS_TOKEN: jwt(2_000_000_000),
  FYERS_APP_SECRET: `app-secret-${crypto.randomUUID()}`,
  FYERS_REDIRECT_URI: 'https://keyline.example/admin/fyers/callback',
}

describe('which Fyers access token is current', () => {
  it('reads a JWT exp in milliseconds, and nothing from a token that is not one', () => {
    expect(jwtExpiry(jwt(1_700_000_000))).toBe(1_700_000_000_000)
    expect(jwtExpiry('test-token-0b1f')).toBeUndefined()
    expect(jwtExpiry('a.%%%.c')).toBeUndefined()
    expect(jwtExpiry(`a.${btoa('not json')}.c`)).toBeUndefined()
  })

  it('a supplied token replaces the bound one, until the binding changes or a bound token lasts longer', async () => {
    const registry = new SecretRegistry({ readFile: null })
    const refreshed = jwt(2_000_100_000)
    registry.supply('fyers', 'accessToken', refreshed, 'fyers-refresh')
    const now = await registry.resolveProvider(ENV, 'fyers')
    expect(now.credentials.accessToken.current?.reveal()).toBe(refreshed)
    expect(now.credentials.accessToken.current?.source).toBe('fyers-refresh')
    // An operator binds a token that lasts longer: it wins.
    const longer = jwt(2_000_200_000)
    const rebound = await registry.resolveProvider({ ...ENV, FYERS_ACCESS_TOKEN: longer }, 'fyers')
    expect(rebound.credentials.accessToken.current?.reveal()).toBe(longer)
    // And the supplied one is gone for good, even back on the old binding.
    const back = await registry.resolveProvider(ENV, 'fyers')
    expect(back.credentials.accessToken.current?.reveal()).toBe(ENV.FYERS_ACCESS_TOKEN)
  })

  it('a supplied token that ends before the bound one does not replace it', async () => {
    const registry = new SecretRegistry({ readFile: null })
    registry.supply('fyers', 'accessToken', jwt(1_900_000_000), 'vault')
    const snapshot = await registry.resolveProvider(ENV, 'fyers')
    expect(snapshot.credentials.accessToken.current?.reveal()).toBe(ENV.FYERS_ACCESS_TOKEN)
  })
})

describe('the sign-in state', () => {
  it('is refused once it is older than 10 minutes, before any call to Fyers', async () => {
    let clock = Date.parse('2026-12-01T03:00:00Z')
    const calls: string[] = []
    const tokens = new FyersTokens({
      registry: new SecretRegistry({ readFile: null }),
      now: () => clock,
      fetch: async (input) => {
        calls.push(String(input))
        return new Response('{}')
      },
      log: () => {},
    })
    const { state, expiresAt } = await tokens.startSignIn(ENV)
    expect(Date.parse(expiresAt) - clock).toBe(10 * 60_000)
    clock += 10 * 60_000 + 1_000
    await expect(tokens.completeSignIn(ENV, 'code', state)).rejects.toMatchObject({
      status: 400,
      type: 'invalid_state',
      message: expect.stringContaining('expired'),
    })
    expect(calls).toEqual([])
  })

  it('names what sign-in is missing', async () => {
    const tokens = new FyersTokens({ registry: new SecretRegistry({ readFile: null }) })
    await expect(
      tokens.startSignIn({ FYERS_CLIENT_ID: 'TESTAPP1-100', FYERS_ACCESS_TOKEN: 'x' })
    ).rejects.toMatchObject({
      status: 409,
      type: 'fyers_sign_in_unavailable',
      details: { missing: ['FYERS_APP_SECRET', 'FYERS_REDIRECT_URI'] },
    })
  })
})
