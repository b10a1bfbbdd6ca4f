import type { KeyStatus, ProviderStatus } from '../admin/index.ts'
import type { ProviderId } from '../catalog/providers.ts'
import type { AdminClient } from './admin-client.ts'
import { CliError } from './cli-error.ts'

/** What a poll of the status decided: done, keep waiting, or failed for good. */
export type Verdict =
  | { done: true; detail: string }
  | { done: false; waiting: string }
  | { failed: string }

/** Options of {@link waitForStatus}. */
export interface WaitOptions {
  readonly timeoutMs: number
  readonly intervalMs: number
  readonly sleep?: (ms: number) => Promise<void>
}

const defaultSleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/**
 * Polls the status until `judge` says done (returns its detail) or failed (throws), or the
 * timeout passes (throws, naming what it was still waiting for). A poll that fails (the
 * deployment is reloading) is retried like a "not yet".
 */
export const waitForStatus = async (
  client: AdminClient,
  provider: ProviderId,
  judge: (status: ProviderStatus, all: KeyStatus) => Verdict,
  options: WaitOptions
): Promise<string> => {
  const sleep = options.sleep ?? defaultSleep
  const deadline = Date.now() + options.timeoutMs
  let waiting = 'the first status'
  for (;;) {
    let all: KeyStatus | undefined
    try {
      all = await client.status()
    } catch (error) {
      // A deployment that is reloading may miss a poll: keep polling until the deadline.
      waiting = `a status answer (last: ${error instanceof Error ? error.message : 'failed'})`
    }
    if (all) {
      const verdict = judge(all.providers[provider], all)
      if ('failed' in verdict) throw new CliError(verdict.failed)
      if (verdict.done) return verdict.detail
      waiting = verdict.waiting
    }
    if (Date.now() + options.intervalMs > deadline) {
      throw new CliError(
        `Timed out after ${Math.round(options.timeoutMs / 1000)} s waiting for ${waiting}`
      )
    }
    await sleep(options.intervalMs)
  }
}
