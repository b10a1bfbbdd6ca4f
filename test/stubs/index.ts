/** Stub upstreams for tests (Node only); `control.ts` is the fetch-only client for any runtime. */
export { type AnthropicStubOptions, DEFAULT_REPLY, startAnthropicStub } from './anthropic.ts'
export { generateStubKeys, stubBindings, stubOptionsFor } from './fixtures.ts'
export { appIdHash, type FyersStubOptions, KNOWN_SYMBOLS, startFyersStub } from './fyers.ts'
export type { StartedStub } from './stub-server.ts'
export type * from './types.ts'
