/// <reference lib="deno.ns" />
import assert from 'node:assert/strict'
import { Console } from 'node:console'
import { Writable } from 'node:stream'
import { Secret } from '../../src/secrets/secret.ts'
import { leakedPiece, randomSecret } from '../support/secret-pieces.ts'

const newValue = (): string => randomSecret()

const secretOf = (value: string): Secret =>
  new Secret(value, {
    provider: 'anthropic',
    credential: 'apiKey',
    slot: 'current',
    source: 'env:ANTHROPIC_API_KEY',
    generation: 7,
  })

/** Asserts `text` holds no run of 5+ characters of `value` other than the fingerprint's tail. */
const assertNoLeak = (text: string, value: string, label: string): void => {
  const piece = leakedPiece(text, value)
  assert.ok(piece === undefined, `${label} shows part of the secret (${piece}): ${text}`)
}

Deno.test('Secret: JSON.stringify shows the fingerprint and the info, never the value', () => {
  const value = newValue()
  const secret = secretOf(value)
  const json = JSON.stringify({ nested: [secret] })
  assertNoLeak(json, value, 'JSON.stringify')
  assert.deepEqual(JSON.parse(json).nested[0], {
    provider: 'anthropic',
    credential: 'apiKey',
    slot: 'current',
    source: 'env:ANTHROPIC_API_KEY',
    fingerprint: `…${value.slice(-4)}`,
    generation: 7,
  })
})

Deno.test('Secret: String(), template literals and concatenation show the fingerprint', () => {
  const value = newValue()
  const secret = secretOf(value)
  for (const [label, text] of [
    ['String()', String(secret)],
    ['template literal', `${secret}`],
    ['concatenation', `key: ${secret}`],
    ['toString()', secret.toString()],
    ['toLocaleString()', secret.toLocaleString()],
  ] as const) {
    assertNoLeak(text, value, label)
    assert.ok(text.includes(`…${value.slice(-4)}`), `${label}: ${text}`)
  }
})

Deno.test('Secret: Deno.inspect shows the fingerprint, whatever the options', () => {
  const value = newValue()
  const secret = secretOf(value)
  for (const options of [
    {},
    { showHidden: true },
    { depth: Number.POSITIVE_INFINITY, colors: true },
    { getters: true, showProxy: true },
  ] satisfies Deno.InspectOptions[]) {
    for (const subject of [secret, { secret }, [secret], new Map([['k', secret]])]) {
      const text = Deno.inspect(subject, options)
      assertNoLeak(text, value, `Deno.inspect ${JSON.stringify(options)}`)
      assert.ok(text.includes(value.slice(-4)), text)
    }
  }
})

Deno.test('Secret: console.log output shows only the fingerprint', async () => {
  const value = newValue()
  const secret = secretOf(value)
  let output = ''
  const sink = new Writable({
    write(chunk, _encoding, done) {
      output += String(chunk)
      done()
    },
  })
  // Formats exactly as console.log does (Deno.inspect, format specifiers), into `output`.
  const capture = new Console({ stdout: sink, stderr: sink, colorMode: false })
  const original = console.log
  console.log = (...args: unknown[]) => capture.log(...args)
  try {
    console.log(secret)
    console.log({ config: { secret } })
    console.log('%s %o %O %j %d', secret, secret, secret, secret, secret)
    console.log('key:', secret, [secret])
  } finally {
    console.log = original
  }
  await new Promise((resolve) => setTimeout(resolve, 0))
  assert.ok(output.length > 0, 'console.log was not captured')
  assertNoLeak(output, value, 'console.log')
  assert.ok(output.includes(value.slice(-4)), output)
})

Deno.test('Secret: structuredClone keeps the info and drops the value', () => {
  const value = newValue()
  const secret = secretOf(value)
  const clone = structuredClone(secret) as unknown as Record<string, unknown>
  assertNoLeak(JSON.stringify(clone), value, 'structuredClone')
  assertNoLeak(Deno.inspect(clone, { showHidden: true }), value, 'structuredClone inspected')
  assert.equal(clone.fingerprint, `…${value.slice(-4)}`)
  assert.equal(typeof clone.reveal, 'undefined')
})

Deno.test('Secret: Object.keys, entries and spreading expose no value', () => {
  const value = newValue()
  const secret = secretOf(value)
  const dumped = JSON.stringify([
    Object.entries(secret),
    { ...secret },
    Object.getOwnPropertyNames(secret).map(
      (k) => (secret as unknown as Record<string, unknown>)[k]
    ),
  ])
  assertNoLeak(dumped, value, 'own properties')
  assert.ok(Object.isFrozen(secret))
})

Deno.test('Secret: reveal() returns the value; short values are fully redacted', () => {
  const value = newValue()
  assert.equal(secretOf(value).reveal(), value)
  const short = secretOf('sk-short-123')
  assert.equal(short.fingerprint, '[REDACTED]')
  assert.ok(!Deno.inspect(short).includes('123'))
  assert.ok(!JSON.stringify(short).includes('123'))
  assert.equal(short.reveal(), 'sk-short-123')
})
