import { createHash, createHmac } from 'node:crypto'
import { SignatureV4 } from '@smithy/signature-v4'
import { AwsClient } from 'aws4fetch'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type StartedAwsStub, startAwsStub } from '../stubs/aws.ts'
import { type AwsStubControl, awsStubControl } from '../stubs/aws-control.ts'

/**
 * The AWS stub speaks the Secrets Manager and SSM JSON 1.1 protocol and verifies every SigV4
 * signature itself (node:crypto): requests signed by aws4fetch and by the AWS SDK's own signer
 * (@smithy/signature-v4) pass; tampered or badly signed ones get AWS's error JSON.
 */
let stub: StartedAwsStub
let aws: AwsStubControl

const bytes = (data: string | ArrayBuffer | ArrayBufferView): string | Uint8Array =>
  typeof data === 'string'
    ? data
    : data instanceof ArrayBuffer
      ? new Uint8Array(data)
      : new Uint8Array(data.buffer, data.byteOffset, data.byteLength)

/** SHA-256 and HMAC-SHA-256 from node:crypto, in the shape @smithy/signature-v4 takes. */
class NodeSha256 {
  readonly #hash
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.#hash = secret ? createHmac('sha256', bytes(secret)) : createHash('sha256')
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.#hash.update(bytes(data))
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.#hash.digest())
  }
}

beforeAll(async () => {
  stub = await startAwsStub()
  aws = await awsStubControl(stub.url).session()
  await aws.putSecret('app/anthropic', 'sk-ant-test-stub-current-value')
})
afterAll(async () => {
  await stub?.close()
})

const client = (secretAccessKey = stub.credentials.secretAccessKey): AwsClient =>
  new AwsClient({
    accessKeyId: stub.credentials.accessKeyId,
    secretAccessKey,
    service: 'secretsmanager',
    region: stub.region,
    retries: 0,
  })

const getSecret = (body: unknown) => ({
  method: 'POST',
  headers: {
    'content-type': 'application/x-amz-json-1.1',
    'x-amz-target': 'secretsmanager.GetSecretValue',
  },
  body: JSON.stringify(body),
})

describe('AWS stub', () => {
  it('answers a request signed by aws4fetch with the secret', async () => {
    const response = await client().fetch(aws.url, getSecret({ SecretId: 'app/anthropic' }))
    expect(response.status).toBe(200)
    const body = (await response.json()) as Record<string, unknown>
    expect(body.SecretString).toBe('sk-ant-test-stub-current-value')
    expect(body.VersionStages).toEqual(['AWSCURRENT'])
  })

  it('answers a request signed by the AWS SDK signer (@smithy/signature-v4)', async () => {
    const url = new URL(aws.url)
    const signer = new SignatureV4({
      credentials: stub.credentials,
      region: stub.region,
      service: 'secretsmanager',
      sha256: NodeSha256,
    })
    const body = JSON.stringify({ SecretId: 'app/anthropic' })
    const signed = await signer.sign({
      method: 'POST',
      protocol: 'http:',
      hostname: url.hostname,
      port: Number(url.port),
      path: url.pathname,
      headers: {
        host: url.host,
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'secretsmanager.GetSecretValue',
      },
      body,
    })
    const response = await fetch(aws.url, {
      method: 'POST',
      headers: signed.headers as Record<string, string>,
      body,
    })
    expect(response.status).toBe(200)
    expect(((await response.json()) as { SecretString: string }).SecretString).toBe(
      'sk-ant-test-stub-current-value'
    )
  })

  it('rejects a tampered body with InvalidSignatureException', async () => {
    const signed = await client().sign(aws.url, getSecret({ SecretId: 'app/anthropic' }))
    const response = await fetch(aws.url, {
      method: 'POST',
      headers: signed.headers,
      body: JSON.stringify({ SecretId: 'app/other' }),
    })
    expect(response.status).toBe(400)
    expect(response.headers.get('x-amzn-errortype')).toMatch(/^InvalidSignatureException/)
    const error = (await response.json()) as { __type: string; message: string }
    expect(error.__type).toBe('InvalidSignatureException')
    expect(error.message).toMatch(/signature we calculated does not match/)
  })

  it('rejects a tampered target header and a wrong secret key', async () => {
    const signed = await client().sign(aws.url, getSecret({ SecretId: 'app/anthropic' }))
    const headers = new Headers(signed.headers)
    headers.set('x-amz-target', 'AmazonSSM.GetParameter')
    const tampered = await fetch(aws.url, { method: 'POST', headers, body: await signed.text() })
    expect(((await tampered.json()) as { __type: string }).__type).toBe('InvalidSignatureException')
    const wrongKey = await client('not-the-key').fetch(
      aws.url,
      getSecret({ SecretId: 'app/anthropic' })
    )
    expect(wrongKey.status).toBe(400)
    expect(((await wrongKey.json()) as { __type: string }).__type).toBe('InvalidSignatureException')
  })

  it('rejects an unsigned request and an unknown access key', async () => {
    const unsigned = await fetch(aws.url, getSecret({ SecretId: 'app/anthropic' }))
    expect(((await unsigned.json()) as { __type: string }).__type).toBe(
      'IncompleteSignatureException'
    )
    const stranger = new AwsClient({
      accessKeyId: 'AKIASTRANGER',
      secretAccessKey: stub.credentials.secretAccessKey,
      service: 'secretsmanager',
      region: stub.region,
      retries: 0,
    })
    const response = await stranger.fetch(aws.url, getSecret({ SecretId: 'app/anthropic' }))
    expect(((await response.json()) as { __type: string }).__type).toBe(
      'UnrecognizedClientException'
    )
    const recorded = await aws.requests()
    expect(recorded.filter((r) => !r.signed).length).toBeGreaterThanOrEqual(4)
  })

  it('stages AWSPENDING, finishes the rotation and answers ResourceNotFoundException', async () => {
    const staged = await aws.putSecret('app/anthropic', 'sk-ant-test-stub-next-value', 'AWSPENDING')
    const pending = await client().fetch(
      aws.url,
      getSecret({ SecretId: staged.arn, VersionStage: 'AWSPENDING' })
    )
    expect(((await pending.json()) as { SecretString: string }).SecretString).toBe(
      'sk-ant-test-stub-next-value'
    )
    await aws.finishRotation('app/anthropic')
    const current = await client().fetch(aws.url, getSecret({ SecretId: 'app/anthropic' }))
    const body = (await current.json()) as { SecretString: string; VersionId: string }
    expect(body.SecretString).toBe('sk-ant-test-stub-next-value')
    expect(body.VersionId).toBe(staged.versionId)
    const gone = await client().fetch(
      aws.url,
      getSecret({ SecretId: 'app/anthropic', VersionStage: 'AWSPENDING' })
    )
    expect(((await gone.json()) as { __type: string }).__type).toBe('ResourceNotFoundException')
  })

  it('serves SSM GetParameter with decryption, and ParameterNotFound', async () => {
    await aws.putParameter('/keyline/fyers-token', 'fyers-test-parameter-value')
    const ssm = new AwsClient({
      ...stub.credentials,
      service: 'ssm',
      region: stub.region,
      retries: 0,
    })
    const call = (body: unknown) =>
      ssm.fetch(aws.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-amz-json-1.1',
          'x-amz-target': 'AmazonSSM.GetParameter',
        },
        body: JSON.stringify(body),
      })
    const found = (await (
      await call({ Name: '/keyline/fyers-token', WithDecryption: true })
    ).json()) as { Parameter: { Value: string; Version: number } }
    expect(found.Parameter).toMatchObject({ Value: 'fyers-test-parameter-value', Version: 1 })
    const encrypted = (await (await call({ Name: '/keyline/fyers-token' })).json()) as {
      Parameter: { Value: string }
    }
    expect(encrypted.Parameter.Value).not.toBe('fyers-test-parameter-value')
    const missing = (await (await call({ Name: '/nope', WithDecryption: true })).json()) as {
      __type: string
    }
    expect(missing.__type).toBe('ParameterNotFound')
  })
})
