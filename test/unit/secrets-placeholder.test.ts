import { describe, expect, it } from 'vitest'
import { unusableReason } from '../../src/secrets/placeholder.ts'
import { SecretRegistry } from '../../src/secrets/registry.ts'

const newValue = (): string => `sk-test-${crypto.randomUUID()}`

const PLACEHOLDERS = [
  'changeme',
  'CHANGEME',
  'change-me',
  'your-key-here',
  'your_api_key',
  'replace-me',
  'TODO',
  'null',
  '<your key>',
  '<ANTHROPIC_API_KEY>',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: an unexpanded shell reference
  '${ANTHROPIC_API_KEY}',
  'xxx',
  'XXXXXXXXXXXXXXXX',
  'sk-ant-xxxxxxxx',
  'sk-ant-...',
  'sk-ant-…',
]

describe('unusableReason', () => {
  it.each(PLACEHOLDERS)('%s is a placeholder', (value) => {
    expect(unusableReason(value)).toBe('placeholder')
  })

  it('an empty value is empty', () => {
    expect(unusableReason('')).toBe('empty')
  })

  it.each([
    newValue(),
    'sk-ant-api03-0123456789abcdefABCDEF',
    'abcdef0123456789',
    'xx',
    'my-changeme-token-1234',
  ])('%s is usable', (value) => {
    expect(unusableReason(value)).toBeUndefined()
  })
})

describe('placeholders in the registry', () => {
  it.each(['', '   \n\t'])(
    'ANTHROPIC_API_KEY=%j (a blank line copied from .env.example) is not set: missing, no "empty" issue',
    async (value) => {
      const snapshot = await new SecretRegistry().resolveProvider(
        { ANTHROPIC_API_KEY: value, FYERS_APP_SECRET: '' },
        'anthropic'
      )
      expect(snapshot.configured).toBe(false)
      expect(snapshot.issues.map((i) => i.reason)).toEqual(['missing'])
      expect(snapshot.generation).toBe(1)
    }
  )

  it('an empty NAME_FILE is still an "empty" issue', async () => {
    const registry = new SecretRegistry({ readFile: async () => '  \n' })
    const snapshot = await registry.resolveProvider(
      { ANTHROPIC_API_KEY_FILE: '/run/secrets/anthropic' },
      'anthropic'
    )
    expect(snapshot.issues).toContainEqual(
      expect.objectContaining({ reason: 'empty', variable: 'ANTHROPIC_API_KEY_FILE' })
    )
  })

  it.each([...PLACEHOLDERS.map((value) => [value, 'placeholder'] as const)])(
    'ANTHROPIC_API_KEY=%j configures nothing and keeps the reason %s',
    async (value, reason) => {
      const snapshot = await new SecretRegistry().resolveProvider(
        { ANTHROPIC_API_KEY: value },
        'anthropic'
      )
      expect(snapshot.configured).toBe(false)
      expect(snapshot.credentials.apiKey.current).toBeUndefined()
      expect(snapshot.issues).toContainEqual(
        expect.objectContaining({ reason, variable: 'ANTHROPIC_API_KEY', blocking: false })
      )
      expect(snapshot.issues).toContainEqual(
        expect.objectContaining({
          reason: 'missing',
          variable: 'ANTHROPIC_API_KEY',
          blocking: true,
        })
      )
      for (const issue of snapshot.issues) {
        if (value.trim().length > 3) expect(issue.message).not.toContain(value)
      }
    }
  )

  it('a placeholder canonical variable falls back to a usable alias, the reason kept', async () => {
    const value = newValue()
    const snapshot = await new SecretRegistry().resolveProvider(
      { ANTHROPIC_API_KEY: 'changeme', CLAUDE_API_KEY: value },
      'anthropic'
    )
    expect(snapshot.configured).toBe(true)
    expect(snapshot.credentials.apiKey.current?.source).toBe('env:CLAUDE_API_KEY')
    expect(snapshot.credentials.apiKey.current?.reveal()).toBe(value)
    expect(snapshot.issues).toEqual([
      expect.objectContaining({ reason: 'placeholder', variable: 'ANTHROPIC_API_KEY' }),
    ])
  })

  it('values are trimmed', async () => {
    const value = newValue()
    const snapshot = await new SecretRegistry().resolveProvider(
      { ANTHROPIC_API_KEY: `  ${value}\n` },
      'anthropic'
    )
    expect(snapshot.credentials.apiKey.current?.reveal()).toBe(value)
  })
})

describe('values no credential can hold', () => {
  it.each([
    'sk-with space-0123456789',
    'tab\tinside-0123456789',
    'newline\ninside-0123456789',
    'unicode-é-0123456789',
  ])('%j is unusable as invalid_characters', (value) => {
    expect(unusableReason(value)).toBe('invalid_characters')
  })
})
