import type { AwsCredentialsProvider } from '../secrets/stores/aws-request.ts'

/**
 * The AWS SDK's own credential chain (`fromNodeProviderChain` of `@aws-sdk/credential-providers`):
 * environment, shared config and SSO, ECS and EKS Pod Identity container credentials, web identity
 * (EKS IRSA), EC2 instance metadata (IMDSv2). Loaded on first use, so a server that reads no AWS
 * store never loads it; only the Node and Deno entries import this file, never the Worker.
 */
export const awsCredentialChain = (): AwsCredentialsProvider => {
  let chain: Promise<AwsCredentialsProvider> | undefined
  return async () => {
    chain ??= import('@aws-sdk/credential-providers').then((aws) => aws.fromNodeProviderChain())
    chain.catch(() => {
      chain = undefined
    })
    return (await chain)()
  }
}
