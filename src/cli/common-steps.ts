import type { ProviderStatus } from '../admin/key-status.ts'
import { REDACTED } from '../secrets/fingerprint.ts'
import { CliError } from './cli-error.ts'
import type { RotateStep } from './rotate-step.ts'
import { type Verdict, waitForStatus } from './wait-for-status.ts'

/** `GET /admin/keys/status`: the deployment answers, and the new key is not the current one. */
export const checkStep = (onFailure: string): RotateStep => ({
  title: 'Check the deployment: GET /admin/keys/status',
  onFailure,
  async run({ client, provider, expected }) {
    const status = (await client.status()).providers[provider]
    const current = status.current?.fingerprint ?? 'none'
    if (expected !== REDACTED && current === expected) {
      throw new CliError(
        `The new key has the fingerprint of the current one (${current}): it is already current`
      )
    }
    return `runtime ${provider}: current ${current} (${status.source ?? 'not configured'})`
  },
})

/** `POST /admin/keys/reload`. */
export const reloadStep = (onFailure: string): RotateStep => ({
  title: 'Reload: POST /admin/keys/reload',
  onFailure,
  async run({ client }) {
    const result = await client.reload()
    return result.reload.propagated
      ? `reloaded; epoch ${result.reload.epoch} published to every isolate`
      : 'reloaded'
  },
})

/** Polls until the staged key is seen and validated upstream; `invalid` fails at once. */
export const waitNextValidStep = (onFailure: string): RotateStep => ({
  title: 'Wait for the deployment to report the staged key next: valid',
  onFailure,
  run: ({ client, provider, expected, wait }) =>
    waitForStatus(
      client,
      provider,
      (s) => {
        if (!s.next || s.next.fingerprint !== expected) {
          return { done: false, waiting: `the deployment to show next ${expected}` }
        }
        if (s.next.validity === 'valid') return { done: true, detail: `next ${expected}: valid` }
        if (s.next.validity === 'invalid') {
          return {
            failed: `The upstream rejected the new key: next ${expected} is invalid (${s.next.reason ?? 'no reason'})`,
          }
        }
        return {
          done: false,
          waiting: `next ${expected} to be validated (${s.next.reason ?? 'unknown'})`,
        }
      },
      wait
    ),
})

/** The "not yet" verdict while the current key is not the expected one, else `undefined`. */
const currentNot = (s: ProviderStatus, expected: string): Verdict | undefined =>
  s.current?.fingerprint === expected
    ? undefined
    : { done: false, waiting: `current ${expected} (now ${s.current?.fingerprint ?? 'none'})` }

/** Polls until the deployment's current key is the new one. */
export const waitCurrentStep = (onFailure: string): RotateStep => ({
  title: 'Wait for the deployment to use the new key as current',
  onFailure,
  run: ({ client, provider, expected, wait }) =>
    waitForStatus(
      client,
      provider,
      (s) => currentNot(s, expected) ?? { done: true, detail: `current ${expected} (${s.source})` },
      wait
    ),
})

/** The final check: configured, current is the new key, nothing staged. */
export const finalCheckStep = (onFailure: string): RotateStep => ({
  title: 'Check status: configured, current is the new key, no next key staged',
  onFailure,
  run: ({ client, provider, expected, wait }) =>
    waitForStatus(
      client,
      provider,
      (s) => {
        if (!s.configured)
          return { done: false, waiting: `${provider} to be configured (${s.reasons.join(', ')})` }
        const notYet = currentNot(s, expected)
        if (notYet) return notYet
        if (s.next)
          return { done: false, waiting: `the staged key ${s.next.fingerprint} to be gone` }
        return { done: true, detail: `${provider}: configured, current ${expected}, no next key` }
      },
      wait
    ),
})
