import type { EnvRecord } from '../../env.ts'
import { type AwsCredentials, signAwsPost } from './aws-sigv4.ts'

export type { AwsCredentials }

/**
 * Resolves AWS credentials, e.g. `fromNodeProviderChain()` of `@aws-sdk/credential-providers`
 * (container credentials, web identity, EC2 instance metadata), which the Node and Deno entries
 * pass. Static `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` in the environment win over it.
 */
export type AwsCredentialsProvider = () => Promise<AwsCredentials>

/** The two AWS services keyline reads secrets from. */
export type AwsService = 'secretsmanager' | 'ssm'

/** An AWS JSON 1.1 call that did not succeed: the AWS error type and message, never a value. */
export class AwsStoreError extends Error {
  override name = 'AwsStoreError'
  /** e.g. `ResourceNotFoundException`, `InvalidSignatureException`, `network_error`. */
  readonly type: string
  readonly status: number | undefined

  constructor(type: string, message: string, status?: number) {
    super(message)
    this.type = type
    this.status = status
  }
}

const ENDPOINT_VARIABLE: Record<AwsService, string> = {
  secretsmanager: 'AWS_ENDPOINT_URL_SECRETS_MANAGER',
  ssm: 'AWS_ENDPOINT_URL_SSM',
}

const text = (env: EnvRecord, name: string): string | undefined => {
  const value = env[name]
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined
}

/** `AWS_REGION`, then `AWS_DEFAULT_REGION`, then the region of an ARN. */
export const awsRegion = (env: EnvRecord, arn?: string): string | undefined =>
  text(env, 'AWS_REGION') ??
  text(env, 'AWS_DEFAULT_REGION') ??
  (arn?.startsWith('arn:') ? arn.split(':')[3] || undefined : undefined)

/** What an AWS region name looks like (`us-east-1`, `eu-central-2`, `us-gov-west-1`, `cn-north-1`). */
const REGION_NAME = /^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/

/** Whether `region` is an AWS region name: only then may it name a host. */
export const isAwsRegion = (region: string): boolean => REGION_NAME.test(region)

/** The largest AWS answer read: Secrets Manager's own limit on a secret value, 64 KiB. */
export const MAX_AWS_ANSWER_BYTES = 65_536

/** The text of an AWS answer, read no further than {@link MAX_AWS_ANSWER_BYTES}. */
const boundedText = async (response: Response, target: string): Promise<string> => {
  const declared = Number(response.headers.get('content-length'))
  const tooLarge = (): AwsStoreError =>
    new AwsStoreError('answer_too_large', `${target} answered more than 64 KiB`, response.status)
  if (declared > MAX_AWS_ANSWER_BYTES) {
    await response.body?.cancel().catch(() => undefined)
    throw tooLarge()
  }
  if (!response.body) return ''
  const reader = response.body.getReader()
  const decoder = new TextDecoder()
  let size = 0
  let text = ''
  for (;;) {
    const { done, value } = await reader.read()
    if (done) return text + decoder.decode()
    size += value.byteLength
    if (size > MAX_AWS_ANSWER_BYTES) {
      await reader.cancel().catch(() => undefined)
      throw tooLarge()
    }
    text += decoder.decode(value, { stream: true })
  }
}

/** The service endpoint: `AWS_ENDPOINT_URL_<SERVICE>`, `AWS_ENDPOINT_URL`, or AWS's own. */
export const awsEndpoint = (env: EnvRecord, service: AwsService, region: string): string =>
  text(env, ENDPOINT_VARIABLE[service]) ??
  text(env, 'AWS_ENDPOINT_URL') ??
  `https://${service}.${region}.amazonaws.com`

/** Static credentials from `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`. */
export const staticAwsCredentials = (env: EnvRecord): AwsCredentials | undefined => {
  const accessKeyId = text(env, 'AWS_ACCESS_KEY_ID')
  const secretAccessKey = text(env, 'AWS_SECRET_ACCESS_KEY')
  if (!accessKeyId || !secretAccessKey) return undefined
  const sessionToken = text(env, 'AWS_SESSION_TOKEN')
  return sessionToken
    ? { accessKeyId, secretAccessKey, sessionToken }
    : { accessKeyId, secretAccessKey }
}

/** What one AWS JSON call needs. */
export interface AwsCall {
  readonly env: EnvRecord
  readonly service: AwsService
  /** `X-Amz-Target`, e.g. `secretsmanager.GetSecretValue`. */
  readonly target: string
  readonly body: Record<string, unknown>
  /** An ARN the region may be taken from when no region variable is set. */
  readonly arn?: string
  readonly credentials: AwsCredentialsProvider | undefined
  readonly fetch: typeof fetch
  readonly signal: AbortSignal
}

/**
 * Calls an AWS JSON 1.1 API with a SigV4-signed POST (`aws-sigv4.ts`, WebCrypto only) and returns the
 * parsed body, or throws {@link AwsStoreError} with the AWS error type and message.
 */
export const awsJsonCall = async (call: AwsCall): Promise<Record<string, unknown>> => {
  const region = awsRegion(call.env, call.arn)
  if (!region) {
    throw new AwsStoreError('missing_region', 'no AWS region: set AWS_REGION or AWS_DEFAULT_REGION')
  }
  if (!isAwsRegion(region)) {
    throw new AwsStoreError(
      'invalid_region',
      'the AWS region (AWS_REGION, AWS_DEFAULT_REGION or the ARN) is not a region name such as eu-west-1'
    )
  }
  const credentials = staticAwsCredentials(call.env) ?? (await call.credentials?.())
  if (!credentials) {
    throw new AwsStoreError(
      'missing_credentials',
      'no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY'
    )
  }
  const endpoint = awsEndpoint(call.env, call.service, region)
  const signed = await signAwsPost({
    url: endpoint,
    service: call.service,
    region,
    credentials,
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': call.target,
    },
    body: JSON.stringify(call.body),
  })
  let response: Response
  const doFetch = call.fetch
  try {
    response = await doFetch(signed, { signal: call.signal })
  } catch {
    const timedOut = call.signal.aborted
    throw new AwsStoreError(
      timedOut ? 'timeout' : 'network_error',
      timedOut
        ? `${call.target} timed out`
        : `${call.target} could not reach ${new URL(endpoint).host}`
    )
  }
  const body = await boundedText(response, call.target)
  let parsed: Record<string, unknown> = {}
  try {
    parsed = body ? (JSON.parse(body) as Record<string, unknown>) : {}
  } catch {
    // Not JSON (a proxy's error page): reported by status below.
  }
  if (!response.ok) {
    const rawType = String(
      parsed.__type ?? response.headers.get('x-amzn-errortype') ?? `http_${response.status}`
    )
    const type = rawType.split('#').at(-1)?.split(':')[0] || rawType
    const message = String(parsed.message ?? parsed.Message ?? '').slice(0, 200)
    throw new AwsStoreError(type, message ? `${type}: ${message}` : type, response.status)
  }
  return parsed
}
