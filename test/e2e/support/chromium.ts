import { access } from 'node:fs/promises'

/** Debian's chromium, or `CHROMIUM_PATH`. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium'

/** Whether the chromium binary is there to drive with playwright-core. */
export const chromiumAvailable = async (): Promise<boolean> => {
  try {
    await access(CHROMIUM_PATH)
    return true
  } catch {
    return false
  }
}
