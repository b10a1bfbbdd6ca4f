import type { TestProject } from 'vitest/node'
import { startAnthropicStub } from '../stubs/anthropic.ts'
import { startAwsStub } from '../stubs/aws.ts'
import { generateStubKeys, stubOptionsFor } from '../stubs/fixtures.ts'
import { startFyersStub } from '../stubs/fyers.ts'
import type { StubKeys, StubUrls } from '../stubs/types.ts'
import { closedPortUrl, startOtlpReceiver } from '../support/otlp-receiver.ts'

/** Starts the stub upstreams once per project run and hands their URLs to the tests. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const keys = generateStubKeys()
  const options = stubOptionsFor(keys)
  const [anthropic, fyers, aws] = await Promise.all([
    startAnthropicStub(options.anthropic),
    startFyersStub(options.fyers),
    startAwsStub(),
  ])
  project.provide('stubs', { anthropic: anthropic.url, fyers: fyers.url })
  project.provide('awsStub', { url: aws.url, region: aws.region, ...aws.credentials })
  project.provide('stubKeys', keys)
  const otlp = await startOtlpReceiver()
  project.provide('otlpReceiver', otlp.url)
  project.provide('otlpClosed', await closedPortUrl())
  return async () => {
    await Promise.all([anthropic.close(), fyers.close(), aws.close()])
    await otlp.close()
  }
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** Base URLs of the stub upstreams (`test/stubs/`); drive them with `stubControl(url)`. */
    stubs: StubUrls
    /** Credentials the stubs accept from the start (random per run). */
    stubKeys: StubKeys
    /** The AWS Secrets Manager + SSM stub (`test/stubs/aws.ts`) and the static keys it accepts. */
    awsStub: {
      url: string
      region: string
      accessKeyId: string
      secretAccessKey: string
    }
  }
}
