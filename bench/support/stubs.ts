/** The stub upstreams of `test/stubs`, in this process, with fresh random credentials. */
import {
  generateStubKeys,
  type StartedStub,
  type StubKeys,
  startAnthropicStub,
  startFyersStub,
  stubOptionsFor,
} from '../../test/stubs/index.ts'

/** Both stubs and the credentials they accept. */
export interface InProcessStubs {
  keys: StubKeys
  anthropic: StartedStub
  fyers: StartedStub
  close(): Promise<void>
}

/** Starts the Anthropic and Fyers stubs on 127.0.0.1 with keys made up now. */
export const startStubs = async (): Promise<InProcessStubs> => {
  const keys = generateStubKeys()
  const options = stubOptionsFor(keys)
  const [anthropic, fyers] = await Promise.all([
    startAnthropicStub(options.anthropic),
    startFyersStub(options.fyers),
  ])
  return {
    keys,
    anthropic,
    fyers,
    close: async () => {
      await Promise.all([anthropic.close(), fyers.close()])
    },
  }
}
