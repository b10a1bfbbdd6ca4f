/**
 * AWS Signature Version 4 for the one kind of call keyline makes (a JSON 1.1 `POST` to Secrets
 * Manager or SSM), on WebCrypto: no dependency, the same on Workers, Node and Deno. The AWS
 * stub in test/stubs verifies these signatures independently (node:crypto), as AWS would.
 */
import { toHex } from '../../encoding.ts'

/** AWS credentials, as the AWS SDKs' credential providers resolve them. */
/** AWS credentials: static keys, or temporary ones with a session token. */
export interface AwsCredentials {
  readonly accessKeyId: string
  readonly secretAccessKey: string
  readonly sessionToken?: string
  /** When temporary credentials stop working; they are asked for again before then. */
  readonly expiration?: Date
}

const encoder = new TextEncoder()

const sha256Hex = async (text: string): Promise<string> =>
  toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(text))))

const hmac = async (key: BufferSource, text: string): Promise<ArrayBuffer> => {
  const imported = await crypto.subtle.importKey(
    'raw',
    key,
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign']
  )
  return crypto.subtle.sign('HMAC', imported, encoder.encode(text))
}

/** `20261203T083000Z` and `20261203` of a moment. */
const amzDates = (now: number): { dateTime: string; date: string } => {
  const dateTime = new Date(now)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '')
  return { dateTime, date: dateTime.slice(0, 8) }
}

/** What {@link signAwsPost} signs. */
export interface AwsPost {
  readonly url: string
  readonly service: string
  readonly region: string
  readonly credentials: AwsCredentials
  /** Headers besides `host`, `x-amz-date` and `x-amz-security-token`, lower-case names. */
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
  /** Clock, for tests. @default Date.now() */
  readonly now?: number
}

/**
 * A `POST` request to `url` carrying `body`, signed with SigV4: every header it sends is
 * signed (`host`, `x-amz-date`, the session token when there is one, and `headers`).
 */
export const signAwsPost = async (post: AwsPost): Promise<Request> => {
  const url = new URL(post.url)
  const { dateTime, date } = amzDates(post.now ?? Date.now())
  const headers: Record<string, string> = {
    ...post.headers,
    host: url.host,
    'x-amz-date': dateTime,
  }
  if (post.credentials.sessionToken) headers['x-amz-security-token'] = post.credentials.sessionToken
  const names = Object.keys(headers)
    .map((name) => name.toLowerCase())
    .sort()
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]))
  const canonicalHeaders = names
    .map((name) => `${name}:${String(lower[name]).trim().replace(/\s+/g, ' ')}\n`)
    .join('')
  const signedHeaders = names.join(';')
  const canonicalRequest = [
    'POST',
    url.pathname || '/',
    url.search.slice(1),
    canonicalHeaders,
    signedHeaders,
    await sha256Hex(post.body),
  ].join('\n')
  const scope = `${date}/${post.region}/${post.service}/aws4_request`
  const stringToSign = [
    'AWS4-HMAC-SHA256',
    dateTime,
    scope,
    await sha256Hex(canonicalRequest),
  ].join('\n')
  let key: ArrayBuffer = await hmac(encoder.encode(`AWS4${post.credentials.secretAccessKey}`), date)
  for (const part of [post.region, post.service, 'aws4_request']) key = await hmac(key, part)
  const signature = toHex(new Uint8Array(await hmac(key, stringToSign)))
  const { host: _host, ...sent } = headers
  return new Request(url, {
    method: 'POST',
    headers: {
      ...sent,
      authorization: `AWS4-HMAC-SHA256 Credential=${post.credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
    },
    body: post.body,
  })
}
