import type { ProviderId } from '../providers/index.ts'
import type { AdminClient } from './admin-client.ts'
import type { WaitOptions } from './wait-for-status.ts'

/** What the steps of one rotation share. */
export interface RotateContext {
  readonly client: AdminClient
  readonly provider: ProviderId
  /** The new secret, read from stdin. Sent to wrangler or written to a file, never printed. */
  readonly secret: string
  /** Its fingerprint, which the deployment's status must show. */
  readonly expected: string
  readonly wait: WaitOptions
}

/** One step of a rotation: what it does, and what is true if it fails. */
export interface RotateStep {
  /** Printed before it runs, and as the plan of `--dry-run`. */
  readonly title: string
  /** Printed after a failure of this step: the state it leaves and how to go on. */
  readonly onFailure: string
  /** Runs the step; the returned text is printed as its outcome. */
  run(context: RotateContext): Promise<string>
}
