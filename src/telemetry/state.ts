import { FailureStreaks } from './failure-streaks.ts'

/** The values keyline's observable gauges report; one per isolate or process. */
export interface TelemetryState {
  /** Failure streaks behind `keyline.upstream.consecutive_failures`. */
  readonly streaks: FailureStreaks
  /** When the Fyers refresh token expires (epoch ms), once known. */
  refreshTokenExpiresAtMs: number | undefined
  /** The clock the gauges read. @default Date.now */
  now: () => number
}

/** The state shared by the recording functions and the gauge callbacks. */
export const telemetryState: TelemetryState = {
  streaks: new FailureStreaks(),
  refreshTokenExpiresAtMs: undefined,
  now: () => Date.now(),
}

/** Forgets every streak and the refresh-token expiry, and restores the real clock (tests). */
export const resetTelemetryState = (): void => {
  telemetryState.streaks.clear()
  telemetryState.refreshTokenExpiresAtMs = undefined
  telemetryState.now = () => Date.now()
}
