import { Console } from 'node:console'
import { Writable } from 'node:stream'
import { format, inspect } from 'node:util'
import { describe, expect, it } from 'vitest'
import { SecretRegistry } from '../../src/secrets/registry.ts'
import { Secret } from '../../src/secrets/secret.ts'
import { leakedPiece, randomSecret } from '../support/secret-pieces.ts'

/** Random, with no fixed word: a checkout path such as `/tmp/keyline-test` cannot hold a piece. */
const newValue = (): string => randomSecret()

const secretOf = (value: string): Secret =>
  new Secret(value, {
    provider: 'anthropic',
    credential: 'apiKey',
    slot: 'current',
    source: 'env:ANTHROPIC_API_KEY',
    generation: 1,
  })

/**
 * Fails when `text` holds any 5 consecutive characters of `value` outside the fingerprint (the
 * checkout path, which a stack trace prints, is left out of the search).
 */
const expectNoLeak = (text: string, value: string): void => {
  expect(leakedPiece(text, value)).toBeUndefined()
}

describe('Secret under node:util', () => {
  it('the leak check holds wherever the checkout sits (a path with test- or -test in it)', () => {
    const value = newValue()
    // What a stack trace prints from a clone at such a path, beside the fingerprint.
    for (const root of ['/tmp/keyline-test-clone', '/home/me/test-keyline', process.cwd()]) {
      const trace = `Error: failed\n    at Object.<anonymous> (file://${root}/test/node/x.test.ts:1:2)\n    at ${root}/node_modules/vitest/dist/index.js:3:4 …${value.slice(-4)}`
      expectNoLeak(trace, value)
    }
    expect(leakedPiece(`${process.cwd()}/${value.slice(0, 8)}`, value)).toBe(value.slice(0, 5))
  })

  it('util.inspect shows the fingerprint, whatever the options', () => {
    const value = newValue()
    const secret = secretOf(value)
    for (const options of [
      {},
      { showHidden: true },
      { depth: Number.POSITIVE_INFINITY, colors: true },
      { getters: true, showProxy: true, customInspect: true },
    ]) {
      for (const subject of [secret, { secret }, [secret], new Map([['k', secret]])]) {
        const text = inspect(subject, options)
        expectNoLeak(text, value)
        expect(text).toContain(value.slice(-4))
      }
    }
  })

  it('util.format with every specifier shows the fingerprint', () => {
    const value = newValue()
    const secret = secretOf(value)
    const text = format('%s %o %O %j %d %i', secret, secret, secret, secret, secret, secret)
    expectNoLeak(text, value)
  })

  it('console.log output shows only the fingerprint', () => {
    const value = newValue()
    const secret = secretOf(value)
    let output = ''
    const sink = new Writable({
      write(chunk, _encoding, done) {
        output += String(chunk)
        done()
      },
    })
    const capture = new Console({ stdout: sink, stderr: sink, colorMode: false })
    capture.log(secret)
    capture.log({ config: { secret } })
    capture.log('key %s', secret, [secret])
    capture.error(new Error('failed', { cause: secret }))
    capture.dir(secret, { showHidden: true, depth: null })
    capture.table([{ secret }])
    expect(output.length).toBeGreaterThan(0)
    expectNoLeak(output, value)
  })

  it('a whole registry snapshot, inspected or serialized, holds no value', async () => {
    const key = newValue()
    const next = newValue()
    const token = newValue()
    const snapshot = await new SecretRegistry().resolve({
      ANTHROPIC_API_KEY: key,
      ANTHROPIC_API_KEY_NEW: next,
      CLAUDE_API_KEY: newValue(),
      FYERS_CLIENT_ID: 'ABCD1234-100',
      FYERS_ACCESS_TOKEN: token,
    })
    const dumps = [
      inspect(snapshot, { depth: Number.POSITIVE_INFINITY, showHidden: true }),
      JSON.stringify(snapshot),
      format('%o', snapshot),
    ]
    for (const dump of dumps) {
      for (const value of [key, next, token]) expectNoLeak(dump, value)
    }
  })
})
