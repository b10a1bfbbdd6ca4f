/** A Prometheus duration such as `5m` or `1h`. */
export type PromDuration = `${number}${'s' | 'm' | 'h' | 'd'}`

/**
 * Alert thresholds and windows. The alert rules, the dashboard thresholds and the promtool tests
 * in `dashboards/` are all generated from these values.
 */
export const ALERT_THRESHOLDS = {
  /**
   * Failures in a row (no success in between) on one provider and operation before alerting.
   * @default 5
   */
  consecutiveFailures: 5,
  /**
   * How long the streak must stay at or above the threshold before the alert fires.
   * @default '1m'
   */
  consecutiveFailuresFor: '1m',
  /**
   * Share of failed calls over {@link ALERT_THRESHOLDS.failureRatioWindow} that alerts.
   * @default 0.25
   */
  failureRatio: 0.25,
  /** @default '10m' */
  failureRatioWindow: '10m',
  /**
   * Calls needed in the window before the ratio counts, so one failed call in a quiet hour
   * does not page.
   * @default 10
   */
  failureRatioMinRequests: 10,
  /** @default '5m' */
  failureRatioFor: '5m',
  /**
   * Window in which any Fyers authentication failure (expired or invalid token) alerts.
   * @default '5m'
   */
  fyersAuthWindow: '5m',
  /**
   * Window in which any key failover alerts: a failover means the current key was rejected
   * and must be rotated now.
   * @default '15m'
   */
  failoverWindow: '15m',
  /**
   * Window in which failed token refreshes alert unless a refresh also succeeded.
   * @default '1h'
   */
  refreshFailureWindow: '1h',
  /**
   * Window in which failed secrets reloads alert unless a reload also succeeded.
   * @default '30m'
   */
  reloadFailureWindow: '30m',
  /**
   * Failed refreshes of one secure store, with a cached (stale) value served and no successful
   * fetch in {@link ALERT_THRESHOLDS.storeStaleWindow}, that alert.
   * @default 3
   */
  storeStaleFetches: 3,
  /** @default '30m' */
  storeStaleWindow: '30m',
  /**
   * Alert when the Fyers refresh token expires within this many seconds (2 days).
   * @default 172800
   */
  refreshTokenRemainingS: 172_800,
  /**
   * Window in which any refusal of a client by its quota (`keyline.client.limited`) counts.
   * @default '2m'
   */
  clientLimitedWindow: '2m',
  /**
   * How long a client must go on being refused before alerting: a client stuck at its quota.
   * @default '5m'
   */
  clientLimitedFor: '5m',
} as const satisfies Record<string, number | PromDuration>

/** Duration in seconds of a {@link PromDuration}. */
export const durationSeconds = (duration: PromDuration): number => {
  const value = Number.parseFloat(duration)
  const unit = duration.at(-1)
  const factor = unit === 'd' ? 86_400 : unit === 'h' ? 3600 : unit === 'm' ? 60 : 1
  return value * factor
}
