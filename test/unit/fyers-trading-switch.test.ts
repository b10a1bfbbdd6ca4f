import { describe, expect, it } from 'vitest'
import { ENTRY_HELP, startupWarnings } from '../../src/entries/startup-report.ts'
import { tradingOn, tradingRefusal } from '../../src/providers/fyers/trading.ts'
import { SecretRegistry } from '../../src/secrets/registry.ts'

describe('KEYLINE_FYERS_TRADING', () => {
  it('is switched on by `on` in any case, and by nothing else', () => {
    for (const on of ['on', 'ON', 'On', ' on ']) {
      expect(tradingOn(on), on).toBe(true)
      expect(
        tradingRefusal({ KEYLINE_FYERS_TRADING: on }, 'ci', 'place orders'),
        on
      ).toBeUndefined()
    }
    for (const off of [undefined, '', 'true', '1', 'yes', 'off', 'enabled']) {
      expect(tradingOn(off), String(off)).toBe(false)
      expect(
        tradingRefusal({ KEYLINE_FYERS_TRADING: off }, 'ci', 'place orders')?.type,
        String(off)
      ).toBe('trading_disabled')
    }
  })

  it('any other non-empty value is a start-up warning naming the variable and `on`', async () => {
    const registry = new SecretRegistry()
    for (const value of ['true', 'ON ', '1', 'yes']) {
      const lines = await startupWarnings(registry, { KEYLINE_FYERS_TRADING: value })
      const warned = lines.filter((line) => line.variable === 'KEYLINE_FYERS_TRADING')
      if (value.trim().toLowerCase() === 'on') {
        expect(warned, value).toEqual([])
        continue
      }
      expect(warned, value).toEqual([expect.objectContaining({ level: 'warn', reason: 'invalid' })])
      expect(warned[0]?.msg).toContain('"on"')
      expect(warned[0]?.msg).not.toContain(value)
    }
    for (const quiet of [{}, { KEYLINE_FYERS_TRADING: '' }, { KEYLINE_FYERS_TRADING: 'on' }]) {
      expect(await startupWarnings(registry, quiet)).not.toContainEqual(
        expect.objectContaining({ variable: 'KEYLINE_FYERS_TRADING' })
      )
    }
  })
})

describe('--help', () => {
  it('names KEYLINE_CLIENT_LIMITS_FILE beside the _FILE convention', () => {
    expect(ENTRY_HELP).toContain('KEYLINE_CLIENT_LIMITS_FILE')
    expect(ENTRY_HELP).toContain('NAME_FILE=/path')
  })
})
