import type { Model } from '@anthropic-ai/sdk/resources/messages/messages'
import fc from 'fast-check'
import { describe, expect, expectTypeOf, it } from 'vitest'
import { anthropicErrorType } from '../../../src/catalog/anthropic.ts'
import { FYERS_AUTH_CODES, fyersErrorType } from '../../../src/catalog/fyers.ts'
import { FyersApiError } from '../../../src/providers/fyers/client.ts'
import {
  AI_ERROR_TYPES,
  type AnthropicModel,
  FYERS_ERROR_CODES,
  normaliseAiErrorType,
  normaliseFyersCode,
  normaliseHttpStatus,
  normaliseModel,
  OTHER,
} from '../../../src/telemetry/attributes.ts'

/** The literal ids of the SDK's `Model` union, without its `string & {}` escape hatch. */
type Literal<T> = T extends string ? (string extends T ? never : T) : never

describe('normalisers', () => {
  it('knows every model id of the installed @anthropic-ai/sdk', () => {
    expectTypeOf<Exclude<Literal<Model>, AnthropicModel>>().toEqualTypeOf<never>()
  })

  it('never let an unknown string through', () => {
    fc.assert(
      fc.property(fc.string(), (value) => {
        const model = normaliseModel(value)
        expect(model === value || model === OTHER).toBe(true)
        const errorType = normaliseAiErrorType(value)
        expect([...AI_ERROR_TYPES, OTHER]).toContain(errorType)
      })
    )
  })

  it('bound Fyers codes and HTTP statuses', () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer(), fc.double(), fc.string()), (value) => {
        expect([...FYERS_ERROR_CODES.map(String), OTHER]).toContain(normaliseFyersCode(value))
        const status = normaliseHttpStatus(value)
        expect(
          status === OTHER || (Number.isInteger(status) && status >= 100 && status <= 599)
        ).toBe(true)
      })
    )
    expect(normaliseFyersCode(-15)).toBe('-15')
    expect(normaliseFyersCode('-15')).toBe(OTHER)
  })

  it('one code table: every authentication code is an auth error for failover, client and metrics', () => {
    for (const code of FYERS_AUTH_CODES) {
      const error = new FyersApiError(200, { s: 'error', code, message: 'token' })
      expect(error.isAuthError).toBe(true)
      expect(error.type).toBe('upstream_auth_failed')
      expect(fyersErrorType(error.facts)).toBe('authentication_error')
      expect(normaliseFyersCode(code)).toBe(String(code))
    }
  })
})

describe('anthropicErrorType', () => {
  it('prefers the documented body type, then the status, then the transport', () => {
    expect(anthropicErrorType({ httpStatus: 529, apiErrorType: 'overloaded_error' })).toBe(
      'overloaded_error'
    )
    expect(anthropicErrorType({ httpStatus: 401, apiErrorType: 'made_up' })).toBe(
      'authentication_error'
    )
    expect(anthropicErrorType({ httpStatus: 503 })).toBe('api_error')
    expect(anthropicErrorType({ httpStatus: 418 })).toBe(OTHER)
    expect(anthropicErrorType({ transport: 'timeout' })).toBe('timeout')
    expect(anthropicErrorType({})).toBe(OTHER)
  })
})

describe('fyersErrorType', () => {
  it('calls a 5xx api_error even when its body carries a request code', () => {
    expect(fyersErrorType({ httpStatus: 500, fyersCode: -50 })).toBe('api_error')
    expect(fyersErrorType({ httpStatus: 400, fyersCode: -50 })).toBe('invalid_request_error')
  })

  it('classifies auth, rate limits, symbols, requests and upstream errors', () => {
    expect(fyersErrorType({ httpStatus: 200, fyersCode: -16 })).toBe('authentication_error')
    expect(fyersErrorType({ httpStatus: 401 })).toBe('authentication_error')
    expect(fyersErrorType({ httpStatus: 200, fyersCode: -353 })).toBe('rate_limit_error')
    expect(fyersErrorType({ httpStatus: 429 })).toBe('rate_limit_error')
    expect(fyersErrorType({ httpStatus: 200, fyersCode: -300 })).toBe('invalid_symbol')
    expect(fyersErrorType({ httpStatus: 200, invalidResponse: true })).toBe('invalid_response')
    expect(fyersErrorType({ httpStatus: 400, fyersCode: -50 })).toBe('invalid_request_error')
    expect(fyersErrorType({ httpStatus: 502 })).toBe('api_error')
    expect(fyersErrorType({ transport: 'network' })).toBe('network')
    expect(fyersErrorType({ httpStatus: 200, fyersCode: -9999 })).toBe(OTHER)
  })
})
