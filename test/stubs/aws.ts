/**
 * A local AWS Secrets Manager and SSM Parameter Store: the JSON 1.1 wire protocol
 * (`POST /`, `Content-Type: application/x-amz-json-1.1`, `X-Amz-Target:
 * secretsmanager.GetSecretValue` / `AmazonSSM.GetParameter`) with AWS's error shapes. Every
 * request's SigV4 signature is verified here with node:crypto, independently of the signer under
 * test (aws4fetch): a tampered or badly signed request gets AWS's `InvalidSignatureException`.
 *
 * Sessions (`/s/<id>`, as the other stubs) keep test files apart; use a session's URL as
 * `AWS_ENDPOINT_URL`. Control under `<session>/__aws/`: see {@link AwsStubControl}.
 */
import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/** The static AWS credentials the stub accepts (random per start). */
export interface AwsStubCredentials {
  readonly accessKeyId: string
  readonly secretAccessKey: string
  readonly sessionToken?: string
}

/** One request the stub answered (control calls excluded); never a secret value. */
export interface AwsRecordedRequest {
  readonly target: string | null
  readonly status: number
  /** The AWS error type answered, e.g. `InvalidSignatureException`. */
  readonly error: string | null
  /** `true` when the SigV4 signature was verified. */
  readonly signed: boolean
  readonly body: Record<string, unknown> | null
}

interface SecretVersion {
  readonly versionId: string
  readonly value: string
  stages: Set<string>
}

interface SecretRecord {
  readonly name: string
  readonly arn: string
  versions: SecretVersion[]
}

interface SessionState {
  secrets: Map<string, SecretRecord>
  parameters: Map<string, { value: string; version: number; type: string }>
  /** `error`: every call answers 503; `hang`: calls never answer. */
  outage: 'error' | 'hang' | null
  requests: AwsRecordedRequest[]
}

/** A running AWS stub. */
export interface StartedAwsStub {
  /** `http://127.0.0.1:<port>`: the default session. */
  readonly url: string
  readonly credentials: AwsStubCredentials
  /**
   * Temporary credentials (with a session token) the stub also accepts, served as ECS/EKS
   * container credentials at {@link containerCredentialsUrl}.
   */
  readonly temporary: Required<AwsStubCredentials>
  /** For `AWS_CONTAINER_CREDENTIALS_FULL_URI`: answers {@link temporary} as the ECS agent does. */
  readonly containerCredentialsUrl: string
  readonly region: string
  close(): Promise<void>
}

/** Options of {@link startAwsStub}. */
export interface AwsStubOptions {
  /** @default random keys */
  credentials?: AwsStubCredentials
  /** The region the signature's scope must name. @default 'us-east-1' */
  region?: string
  /** @default 0 */
  port?: number
}

const ACCOUNT = '123456789012'
const SESSION_PREFIX = /^\/s\/([A-Za-z0-9_-]{1,64})(?=\/|$)/

const sha256Hex = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex')
const hmac = (key: Buffer | string, data: string): Buffer =>
  createHmac('sha256', key).update(data).digest()

/** Generates fake static credentials, clearly test-only. */
export const generateAwsStubCredentials = (): AwsStubCredentials => ({
  accessKeyId: `AKIATEST${randomBytes(6).toString('hex').toUpperCase()}`,
  secretAccessKey: `test-secret-${randomUUID()}`,
})

/** AWS's canonical URI encoding of a path: each segment percent-encoded once (non-S3 twice). */
const canonicalUri = (path: string): string =>
  path
    .split('/')
    .map((segment) =>
      encodeURIComponent(decodeURIComponent(segment)).replace(
        /[!'()*]/g,
        (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`
      )
    )
    .map((segment) => encodeURIComponent(segment))
    .join('/')

const canonicalQuery = (search: string): string =>
  [...new URLSearchParams(search)]
    .map(([k, v]) => [encodeURIComponent(k), encodeURIComponent(v)] as const)
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&')

type Verdict = { ok: true } | { ok: false; status: number; type: string; message: string }

/**
 * Verifies a SigV4 `Authorization` header by recomputing the signature (the AWS documentation's
 * algorithm, written out with node:crypto).
 */
export const verifySigV4 = (
  req: { method: string; path: string; search: string; headers: IncomingMessage['headers'] },
  body: Buffer,
  credentials: AwsStubCredentials,
  region: string,
  now: Date = new Date()
): Verdict => {
  const auth = String(req.headers.authorization ?? '')
  const m =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(
      auth
    )
  if (!m) {
    return {
      ok: false,
      status: 400,
      type: 'IncompleteSignatureException',
      message: 'Authorization header requires Credential, SignedHeaders and Signature.',
    }
  }
  const [, keyId, date, scopeRegion, service, signedList, signature] = m as unknown as string[]
  if (keyId !== credentials.accessKeyId) {
    return {
      ok: false,
      status: 400,
      type: 'UnrecognizedClientException',
      message: 'The security token included in the request is invalid.',
    }
  }
  const amzDate = String(req.headers['x-amz-date'] ?? '')
  const signed = (signedList as string).split(';')
  const required = ['host', 'x-amz-date', 'x-amz-target']
  if (credentials.sessionToken) required.push('x-amz-security-token')
  if (
    !amzDate.startsWith(date as string) ||
    required.some((h) => !signed.includes(h)) ||
    scopeRegion !== region
  ) {
    return {
      ok: false,
      status: 400,
      type: 'InvalidSignatureException',
      message: 'Credential should be scoped to a valid region, date and signed headers.',
    }
  }
  const at = Date.parse(
    amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z')
  )
  if (!Number.isFinite(at) || Math.abs(now.getTime() - at) > 5 * 60_000) {
    return {
      ok: false,
      status: 400,
      type: 'InvalidSignatureException',
      message: 'Signature expired or not yet current.',
    }
  }
  if (
    credentials.sessionToken &&
    req.headers['x-amz-security-token'] !== credentials.sessionToken
  ) {
    return {
      ok: false,
      status: 400,
      type: 'UnrecognizedClientException',
      message: 'The security token included in the request is invalid.',
    }
  }
  const headerLines = signed
    .map((name) => {
      const raw = req.headers[name]
      const value = Array.isArray(raw) ? raw.join(',') : (raw ?? '')
      return `${name}:${String(value).trim().replace(/\s+/g, ' ')}\n`
    })
    .join('')
  const canonicalRequest = [
    req.method,
    canonicalUri(req.path),
    canonicalQuery(req.search),
    headerLines,
    signedList,
    sha256Hex(body),
  ].join('\n')
  const scope = `${date}/${scopeRegion}/${service}/aws4_request`
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonicalRequest)].join('\n')
  const key = hmac(
    hmac(
      hmac(hmac(`AWS4${credentials.secretAccessKey}`, date as string), scopeRegion as string),
      service as string
    ),
    'aws4_request'
  )
  const expected = Buffer.from(hmac(key, stringToSign).toString('hex'))
  const given = Buffer.from(signature as string)
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    return {
      ok: false,
      status: 400,
      type: 'InvalidSignatureException',
      message:
        'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
    }
  }
  return { ok: true }
}

const newSession = (): SessionState => ({
  secrets: new Map(),
  parameters: new Map(),
  outage: null,
  requests: [],
})

const suffix = (): string => randomBytes(3).toString('hex').slice(0, 6)

/** Starts the stub on 127.0.0.1. */
export const startAwsStub = async (options: AwsStubOptions = {}): Promise<StartedAwsStub> => {
  const credentials = options.credentials ?? generateAwsStubCredentials()
  const temporary = {
    accessKeyId: `ASIATEST${randomBytes(6).toString('hex').toUpperCase()}`,
    secretAccessKey: `test-temporary-${randomUUID()}`,
    sessionToken: `test-session-${randomBytes(24).toString('base64url')}`,
  }
  const region = options.region ?? 'us-east-1'
  const sessions = new Map<string, SessionState>([['default', newSession()]])
  let base = ''
  const hanging = new Set<ServerResponse>()

  /** Answers, and returns `true` (handlers return what answered). */
  const json = (res: ServerResponse, status: number, body: unknown): true => {
    res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' })
    res.end(JSON.stringify(body))
    return true
  }
  const awsError = (
    res: ServerResponse,
    session: SessionState,
    target: string | null,
    status: number,
    type: string,
    message: string,
    signed: boolean,
    body: Record<string, unknown> | null
  ): true => {
    session.requests.push({ target, status, error: type, signed, body })
    res.writeHead(status, {
      'content-type': 'application/x-amz-json-1.1',
      'x-amzn-errortype': `${type}:`,
      'x-amzn-requestid': randomUUID(),
    })
    res.end(JSON.stringify({ __type: type, message }))
    return true
  }

  const findSecret = (session: SessionState, id: string): SecretRecord | undefined =>
    session.secrets.get(id) ?? [...session.secrets.values()].find((s) => s.arn === id)

  const control = (
    session: SessionState,
    sessionId: string,
    action: string,
    body: Record<string, unknown>,
    res: ServerResponse
  ): true => {
    switch (action) {
      case 'sessions': {
        const id = randomUUID().slice(0, 8)
        sessions.set(id, newSession())
        return json(res, 200, { id, url: `${base}/s/${id}` })
      }
      case 'secret': {
        // Puts a new version with `stage` (default AWSCURRENT), moving that label to it.
        const name = String(body.id)
        const stage = String(body.stage ?? 'AWSCURRENT')
        let record = session.secrets.get(name)
        if (!record) {
          record = {
            name,
            arn: `arn:aws:secretsmanager:${region}:${ACCOUNT}:secret:${name}-${suffix()}`,
            versions: [],
          }
          session.secrets.set(name, record)
        }
        for (const v of record.versions) {
          if (stage !== 'AWSCURRENT') {
            v.stages.delete(stage)
            continue
          }
          v.stages.delete('AWSPREVIOUS')
          if (v.stages.delete('AWSCURRENT')) v.stages.add('AWSPREVIOUS')
        }
        const version = {
          versionId: randomUUID(),
          value: String(body.value),
          stages: new Set([stage]),
        }
        record.versions.push(version)
        return json(res, 200, { arn: record.arn, name, versionId: version.versionId })
      }
      case 'finish-rotation': {
        // What a rotation's finishSecret step does: AWSCURRENT moves to the AWSPENDING version.
        const record = findSecret(session, String(body.id))
        const pending = record?.versions.find((v) => v.stages.has('AWSPENDING'))
        if (!record || !pending) return json(res, 409, { error: 'no AWSPENDING version' })
        for (const v of record.versions) {
          v.stages.delete('AWSPREVIOUS')
          if (v.stages.delete('AWSCURRENT')) v.stages.add('AWSPREVIOUS')
        }
        pending.stages.delete('AWSPENDING')
        pending.stages.add('AWSCURRENT')
        return json(res, 200, { arn: record.arn, versionId: pending.versionId })
      }
      case 'parameter': {
        const name = String(body.name)
        const previous = session.parameters.get(name)
        const parameter = {
          value: String(body.value),
          version: (previous?.version ?? 0) + 1,
          type: String(body.type ?? 'SecureString'),
        }
        session.parameters.set(name, parameter)
        return json(res, 200, { name, version: parameter.version })
      }
      case 'outage': {
        const mode = body.mode
        session.outage = mode === 'hang' || mode === 'error' ? mode : null
        if (!session.outage) {
          for (const r of hanging) r.destroy()
          hanging.clear()
        }
        return json(res, 200, { outage: session.outage })
      }
      case 'requests':
        return json(res, 200, session.requests)
      case 'reset':
        sessions.set(sessionId, newSession())
        return json(res, 200, {})
      default:
        return json(res, 404, { error: `unknown control ${action}` })
    }
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const raw = Buffer.concat(chunks)
      const url = new URL(req.url ?? '/', 'http://stub')
      const m = SESSION_PREFIX.exec(url.pathname)
      const id = m?.[1] ?? 'default'
      const session = sessions.get(id)
      if (!session) return json(res, 404, { error: 'no such session' })
      const rest = m ? url.pathname.slice(m[0].length) || '/' : url.pathname
      let body: Record<string, unknown> | null = null
      try {
        body = raw.length ? (JSON.parse(raw.toString('utf8')) as Record<string, unknown>) : {}
      } catch {
        body = null
      }
      if (rest === '/__aws/container-credentials') {
        return json(res, 200, {
          AccessKeyId: temporary.accessKeyId,
          SecretAccessKey: temporary.secretAccessKey,
          Token: temporary.sessionToken,
          Expiration: new Date(Date.now() + 3_600_000).toISOString(),
          RoleArn: `arn:aws:iam::${ACCOUNT}:role/keyline-test`,
        })
      }
      if (rest.startsWith('/__aws/')) {
        return control(session, id, rest.slice('/__aws/'.length), body ?? {}, res)
      }
      const target =
        typeof req.headers['x-amz-target'] === 'string' ? req.headers['x-amz-target'] : null
      if (session.outage === 'hang') {
        hanging.add(res)
        res.on('close', () => hanging.delete(res))
        return
      }
      if (session.outage === 'error') {
        return awsError(
          res,
          session,
          target,
          503,
          'ServiceUnavailable',
          'Service is unavailable.',
          false,
          body
        )
      }
      const presented = /Credential=([^/]+)\//.exec(String(req.headers.authorization ?? ''))?.[1]
      const verdict = verifySigV4(
        {
          method: req.method ?? 'GET',
          path: url.pathname,
          search: url.search,
          headers: req.headers,
        },
        raw,
        presented === temporary.accessKeyId ? temporary : credentials,
        region
      )
      if (!verdict.ok) {
        return awsError(
          res,
          session,
          target,
          verdict.status,
          verdict.type,
          verdict.message,
          false,
          body
        )
      }
      if (
        req.method !== 'POST' ||
        req.headers['content-type'] !== 'application/x-amz-json-1.1' ||
        !body
      ) {
        return awsError(
          res,
          session,
          target,
          400,
          'SerializationException',
          'Expected an application/x-amz-json-1.1 body.',
          true,
          body
        )
      }
      if (target === 'secretsmanager.GetSecretValue') {
        const record = findSecret(session, String(body.SecretId ?? ''))
        const stage = typeof body.VersionStage === 'string' ? body.VersionStage : 'AWSCURRENT'
        const version = record?.versions.find((v) =>
          typeof body?.VersionId === 'string' ? v.versionId === body.VersionId : v.stages.has(stage)
        )
        if (!record || !version) {
          return awsError(
            res,
            session,
            target,
            400,
            'ResourceNotFoundException',
            "Secrets Manager can't find the specified secret.",
            true,
            body
          )
        }
        session.requests.push({ target, status: 200, error: null, signed: true, body })
        return json(res, 200, {
          ARN: record.arn,
          Name: record.name,
          VersionId: version.versionId,
          SecretString: version.value,
          VersionStages: [...version.stages],
          CreatedDate: Date.now() / 1000,
        })
      }
      if (target === 'AmazonSSM.GetParameter') {
        const name = String(body.Name ?? '')
        const parameter = session.parameters.get(name)
        if (!parameter)
          return awsError(
            res,
            session,
            target,
            400,
            'ParameterNotFound',
            `Parameter ${name} not found.`,
            true,
            body
          )
        session.requests.push({ target, status: 200, error: null, signed: true, body })
        const decrypted = body.WithDecryption === true || parameter.type !== 'SecureString'
        return json(res, 200, {
          Parameter: {
            Name: name,
            Type: parameter.type,
            Value: decrypted ? parameter.value : `AQICAH${randomBytes(24).toString('base64')}`,
            Version: parameter.version,
            ARN: `arn:aws:ssm:${region}:${ACCOUNT}:parameter/${name.replace(/^\//, '')}`,
            DataType: 'text',
          },
        })
      }
      return awsError(
        res,
        session,
        target,
        400,
        'UnknownOperationException',
        'Unknown operation.',
        true,
        body
      )
    })
  })
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  base = `http://127.0.0.1:${port}`
  return {
    url: base,
    credentials,
    temporary,
    containerCredentialsUrl: `${base}/__aws/container-credentials`,
    region,
    close: () =>
      new Promise<void>((resolve) => {
        for (const r of hanging) r.destroy()
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
