import { AwsStoreError, awsJsonCall } from './aws-request.ts'
import type { StoreFetchContext, StoreFetched, StoreRef } from './store-fetch.ts'

/** An AWS SSM Parameter Store parameter, read with `GetParameter` and decryption (SecureString). */
export const parameterStoreRef = (name: string): StoreRef => ({
  kind: 'aws-ssm',
  key: `aws-ssm\u0000${name}`,
  source: `aws-ssm:${name}`,
  async fetch(context: StoreFetchContext): Promise<StoreFetched> {
    const body = await awsJsonCall({
      ...context,
      service: 'ssm',
      target: 'AmazonSSM.GetParameter',
      body: { Name: name, WithDecryption: true },
      arn: name,
    })
    const parameter = body.Parameter as { Value?: unknown; Version?: unknown } | undefined
    if (typeof parameter?.Value !== 'string') {
      throw new AwsStoreError('invalid_response', `GetParameter returned no value for ${name}`)
    }
    const version = parameter.Version
    return {
      value: parameter.Value,
      ...(typeof version === 'number' || typeof version === 'string'
        ? { versionId: String(version) }
        : {}),
    }
  },
})
