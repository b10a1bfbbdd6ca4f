import { AwsStoreError, awsJsonCall } from './aws-request.ts'
import type { StoreFetchContext, StoreFetched, StoreRef } from './store-fetch.ts'

/** The version stage of the current value of a Secrets Manager secret. */
export const AWS_CURRENT = 'AWSCURRENT'
/** The version stage of a rotation in progress: keyline's next value. */
export const AWS_PENDING = 'AWSPENDING'

/**
 * A version stage of an AWS Secrets Manager secret, read with `GetSecretValue`. A missing
 * `AWSPENDING` version is no error: no rotation is staged.
 */
export const secretsManagerRef = (secretId: string, stage: string): StoreRef => ({
  kind: 'aws-sm',
  key: `aws-sm\u0000${secretId}\u0000${stage}`,
  source: `aws-sm:${secretId}`,
  async fetch(context: StoreFetchContext): Promise<StoreFetched> {
    let body: Record<string, unknown>
    try {
      body = await awsJsonCall({
        ...context,
        service: 'secretsmanager',
        target: 'secretsmanager.GetSecretValue',
        body: { SecretId: secretId, VersionStage: stage },
        arn: secretId,
      })
    } catch (error) {
      if (
        stage !== AWS_CURRENT &&
        error instanceof AwsStoreError &&
        error.type === 'ResourceNotFoundException'
      ) {
        return { value: undefined, stage }
      }
      throw error
    }
    const versionId = typeof body.VersionId === 'string' ? body.VersionId : undefined
    if (typeof body.SecretString !== 'string') {
      throw new AwsStoreError(
        'unsupported_secret',
        `secret ${secretId} has no SecretString (binary secrets are not read)`
      )
    }
    return { value: body.SecretString, versionId, stage }
  },
})
