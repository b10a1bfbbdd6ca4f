import { describe, expect, it } from 'vitest'
import { setHint } from '../../src/catalog/set-hint.ts'
import { FyersTokens } from '../../src/providers/fyers/tokens.ts'
import { runtimeName } from '../../src/runtime.ts'
import { SecretRegistry } from '../../src/secrets/registry.ts'
import { adminHarness, generatedEnv } from './admin-harness.ts'

/**
 * Issue 22, item 7: a hint never says "set X and reload" for a plain environment variable on
 * Node or Deno (only a restart changes it): it says what works for the source — `.env` or the
 * environment and a restart, or a `_FILE`/store and a reload; on Workers, `wrangler secret put`.
 */
describe('hints that fit the source', () => {
  it('Node and Deno: restart for a plain variable, reload for a _FILE or a store', () => {
    for (const runtime of ['node', 'deno', undefined]) {
      const hint = setHint(['FYERS_APP_SECRET'], runtime)
      expect(hint).toBe(
        'set FYERS_APP_SECRET (in .env or the environment) and restart keyline, or give it as FYERS_APP_SECRET_FILE or a secure store (FYERS_APP_SECRET_AWS_SECRET) and reload'
      )
    }
    expect(setHint(['FYERS_APP_SECRET', 'FYERS_PIN'], 'node')).toContain(
      'set FYERS_APP_SECRET, FYERS_PIN (in .env or the environment) and restart keyline, or give them as'
    )
  })

  it('Workers: wrangler secret put, which takes effect with the version it deploys', () => {
    const hint = setHint(['ANTHROPIC_API_KEY_NEW'], 'workerd')
    expect(hint).toContain('set ANTHROPIC_API_KEY_NEW with wrangler secret put')
    expect(hint).toContain('the version it deploys')
    expect(hint).not.toContain('restart')
  })

  it('promote with nothing staged says how to stage it for the source', async () => {
    const h = adminHarness()
    const env = generatedEnv()
    const res = await h.request('/admin/keys/promote', env, {
      token: env.ADMIN_TOKEN as string,
      method: 'POST',
      body: { provider: 'anthropic' },
    })
    const { message } = (await res.json()).error
    expect(message).toBe(
      `No next Anthropic API key is staged: ${setHint(['ANTHROPIC_API_KEY_NEW'], 'test')}`
    )
    expect(message).toContain('restart keyline')
    expect(message).not.toMatch(/set \S+ and reload/)
  })

  it('Fyers sign-in unavailable names the variables and what makes them count', async () => {
    const tokens = new FyersTokens({ registry: new SecretRegistry({ readFile: null }) })
    const error = await tokens
      .startSignIn({ FYERS_CLIENT_ID: 'TESTAPP1-100', FYERS_ACCESS_TOKEN: 'x' })
      .catch((e: Error) => e)
    expect(String((error as Error).message)).toBe(
      `Fyers sign-in needs FYERS_APP_SECRET, FYERS_REDIRECT_URI: ${setHint(['FYERS_APP_SECRET', 'FYERS_REDIRECT_URI'], runtimeName())}`
    )
    expect(String((error as Error).message)).not.toContain('set them and reload')
  })
})
