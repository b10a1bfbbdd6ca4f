import { describe, expect, it } from 'vitest'
import { startupWarnings } from '../../src/entries/startup-report.ts'
import { SecretRegistry } from '../../src/secrets/registry.ts'
import {
  DEFAULT_MAX_UPLOAD_BYTES,
  maxUploadBytes,
  parseMaxUpload,
} from '../../src/upstream/upload-limit.ts'

describe('KEYLINE_MAX_UPLOAD_BYTES', () => {
  it("defaults to Anthropic's Files API limit, 500 MB a file (as 500 MiB)", () => {
    expect(DEFAULT_MAX_UPLOAD_BYTES).toBe(524_288_000)
    expect(maxUploadBytes({})).toBe(DEFAULT_MAX_UPLOAD_BYTES)
    expect(maxUploadBytes({ KEYLINE_MAX_UPLOAD_BYTES: ' ' })).toBe(DEFAULT_MAX_UPLOAD_BYTES)
  })

  it('takes a positive whole number of bytes; anything else is the default', () => {
    expect(maxUploadBytes({ KEYLINE_MAX_UPLOAD_BYTES: '1048576' })).toBe(1_048_576)
    expect(maxUploadBytes({ KEYLINE_MAX_UPLOAD_BYTES: ' 2048 ' })).toBe(2048)
    for (const bad of ['0', '-5', '1.5', '10MB', 'abc', '1e9', '99999999999999999999']) {
      expect(parseMaxUpload(bad), bad).toBeNull()
      expect(maxUploadBytes({ KEYLINE_MAX_UPLOAD_BYTES: bad }), bad).toBe(DEFAULT_MAX_UPLOAD_BYTES)
    }
  })

  it('a value that is not a number is a start-up warning naming the variable', async () => {
    const registry = new SecretRegistry()
    const lines = await startupWarnings(registry, { KEYLINE_MAX_UPLOAD_BYTES: '10MB' })
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        variable: 'KEYLINE_MAX_UPLOAD_BYTES',
        reason: 'invalid',
      })
    )
    expect(
      await startupWarnings(registry, { KEYLINE_MAX_UPLOAD_BYTES: '1000' })
    ).not.toContainEqual(expect.objectContaining({ variable: 'KEYLINE_MAX_UPLOAD_BYTES' }))
  })
})
