import { afterAll, beforeAll } from 'vitest'
import { startAnthropicStub } from '../../stubs/anthropic.ts'
import { type StubControl, stubControl } from '../../stubs/control.ts'
import { generateStubKeys, stubBindings, stubOptionsFor } from '../../stubs/fixtures.ts'
import type { StartedStub } from '../../stubs/stub-server.ts'
import type { StubKeys } from '../../stubs/types.ts'
import type { RuntimeName } from './runtimes.ts'

/** What {@link anthropicSessions} gives a contract suite. */
export interface AnthropicSessions {
  /** The stub's keys (after the suite's `beforeAll`). */
  keys(): StubKeys
  /** The stub session of `runtime`'s server, for faults, modes and recorded requests. */
  session(runtime: RuntimeName): StubControl
  /** `describeRuntimes`' `bindings`: a new stub session per runtime; Fyers points nowhere. */
  bindings(context: { runtime: RuntimeName }): Promise<Record<string, string>>
}

/**
 * One Anthropic stub for a contract suite (started in its `beforeAll`, stopped in its
 * `afterAll`), with one isolated session per runtime under test, and a client token.
 */
export const anthropicSessions = (clientToken: string): AnthropicSessions => {
  let stub: StartedStub | undefined
  let keys: StubKeys | undefined
  const sessions = new Map<RuntimeName, StubControl>()
  beforeAll(async () => {
    keys = generateStubKeys()
    stub = await startAnthropicStub(stubOptionsFor(keys).anthropic)
  })
  afterAll(async () => {
    await stub?.close()
  })
  const started = (): { stub: StartedStub; keys: StubKeys } => {
    if (!stub || !keys) throw new Error('the Anthropic stub starts in beforeAll')
    return { stub, keys }
  }
  return {
    keys: () => started().keys,
    session: (runtime) => {
      const found = sessions.get(runtime)
      if (!found) throw new Error(`no stub session for ${runtime}`)
      return found
    },
    bindings: async ({ runtime }) => {
      const { stub, keys } = started()
      const anthropic = await stubControl(stub.url).session()
      sessions.set(runtime, anthropic)
      const urls = { anthropic: anthropic.url, fyers: 'http://127.0.0.1:9' }
      return stubBindings(keys, urls, clientToken)
    },
  }
}
