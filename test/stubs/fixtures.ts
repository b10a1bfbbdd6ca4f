import type { StubKeys } from './types.ts'

/**
 * Fresh random credentials for the stubs, generated at call time (never stored anywhere):
 * `sk-ant-<uuid>` for Anthropic, random hex for Fyers. No readable words in them: the
 * redactor replaces any 8-character run of a secret, so a label such as `-refresh` inside a
 * test secret would mangle keyline's own words (`fyers-refresh`) and a checkout path.
 */
export const generateStubKeys = (): StubKeys => {
  const hex = () => crypto.randomUUID().replaceAll('-', '')
  return {
    anthropic: { apiKey: `sk-ant-${crypto.randomUUID()}` },
    fyers: {
      clientId: `TEST${hex().slice(0, 6).toUpperCase()}-100`,
      accessToken: `t${hex()}`,
      appSecret: `s${hex().slice(0, 20)}`,
      refreshToken: `r${hex()}`,
      pin: String(1000 + ((crypto.getRandomValues(new Uint16Array(1))[0] as number) % 9000)),
    },
  }
}

/** `startAnthropicStub` / `startFyersStub` options accepting `keys`. */
export const stubOptionsFor = (keys: StubKeys) => ({
  anthropic: { apiKeys: [keys.anthropic.apiKey] },
  fyers: {
    clientIds: [keys.fyers.clientId],
    accessTokens: [keys.fyers.accessToken],
    appSecrets: [keys.fyers.appSecret],
    refreshTokens: [keys.fyers.refreshToken],
    pins: [keys.fyers.pin],
  },
})

/**
 * The bindings that point keyline at stub upstreams with `keys`, and let `clientToken` call
 * the proxy: what the demo, the proxy tests and the server suites all start keyline with.
 */
export const stubBindings = (
  keys: StubKeys,
  urls: { anthropic: string; fyers: string },
  clientToken: string
): Record<string, string> => ({
  KEYLINE_CLIENT_TOKENS: clientToken,
  ANTHROPIC_API_KEY: keys.anthropic.apiKey,
  ANTHROPIC_BASE_URL: urls.anthropic,
  FYERS_CLIENT_ID: keys.fyers.clientId,
  FYERS_ACCESS_TOKEN: keys.fyers.accessToken,
  FYERS_BASE_URL: urls.fyers,
})
