import type { AwsRecordedRequest } from './aws.ts'

/** A fetch-only client of the AWS stub's control API (`<session>/__aws/`): Node and workerd alike. */
export interface AwsStubControl {
  /** The session's URL: use it as `AWS_ENDPOINT_URL`. */
  readonly url: string
  /** Puts a new version of a secret under `stage` (default `AWSCURRENT`), moving that label. */
  putSecret(
    id: string,
    value: string,
    stage?: 'AWSCURRENT' | 'AWSPENDING'
  ): Promise<{ arn: string; versionId: string }>
  /** Finishes a rotation: `AWSCURRENT` moves to the `AWSPENDING` version. */
  finishRotation(id: string): Promise<{ versionId: string }>
  /** Puts a new version of a parameter (a SecureString by default). */
  putParameter(name: string, value: string, type?: string): Promise<{ version: number }>
  /** `error`: every call answers 503 ServiceUnavailable; `hang`: no answer; `null`: up again. */
  outage(mode: 'error' | 'hang' | null): Promise<void>
  /** Every API call answered so far, with its verdict. */
  requests(): Promise<AwsRecordedRequest[]>
  /** A new, empty session on the same stub. */
  session(): Promise<AwsStubControl>
}

const post = async <T>(url: string, body: unknown = {}): Promise<T> => {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  const text = await response.text()
  if (!response.ok) throw new Error(`aws stub control ${url}: ${response.status} ${text}`)
  return JSON.parse(text) as T
}

/** Drives the AWS stub session at `url`. */
export const awsStubControl = (url: string): AwsStubControl => {
  const at = (action: string): string => `${url}/__aws/${action}`
  return {
    url,
    putSecret: (id, value, stage = 'AWSCURRENT') => post(at('secret'), { id, value, stage }),
    finishRotation: (id) => post(at('finish-rotation'), { id }),
    putParameter: (name, value, type = 'SecureString') =>
      post(at('parameter'), { name, value, type }),
    outage: async (mode) => {
      await post(at('outage'), { mode })
    },
    requests: async () => {
      const response = await fetch(at('requests'))
      return (await response.json()) as AwsRecordedRequest[]
    },
    session: async () => {
      const origin = new URL(url).origin
      const created = await post<{ url: string }>(`${origin}/__aws/sessions`)
      return awsStubControl(created.url)
    },
  }
}
