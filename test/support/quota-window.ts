/**
 * Quota windows are fixed UTC minutes: a test that counts requests against `rpm` first waits,
 * when the minute ends within `marginMs`, for the next one, so no burst straddles two windows.
 * That wait is up to `marginMs` on top of the test's own time: a suite that calls it gives its
 * tests {@link QUOTA_TEST_TIMEOUT_MS}, not the default 5 s (which it would pass whenever the test
 * starts near the end of a minute, one run in twelve).
 */
export const awayFromMinuteEdge = async (marginMs = 5_000): Promise<void> => {
  const left = 60_000 - (Date.now() % 60_000)
  if (left < marginMs) await new Promise((resolve) => setTimeout(resolve, left + 50))
}

/** The timeout of a test that may wait in {@link awayFromMinuteEdge}: the wait, and then 15 s. */
export const QUOTA_TEST_TIMEOUT_MS = 20_000

/** One count of a client in the admin status (`limits.clients.<name>.counts`). */
export interface StatusCount {
  kind: string
  limit: number
  used: number
  resetAt: number
}

/** A client's counts in the admin status by kind (`rpm`, `tpm`, …, `refused`). */
export const countsOf = (
  client: { counts: StatusCount[] } | undefined
): Record<string, StatusCount | undefined> =>
  Object.fromEntries((client?.counts ?? []).map((count) => [count.kind, count]))
