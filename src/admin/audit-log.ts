/** Receives one structured log line (audit lines and failed admin attempts); never a secret. */
export type AdminLogger = (line: Record<string, unknown>) => void

/** Writes the line as one JSON line on the console. */
export const consoleJsonLogger: AdminLogger = (line) => {
  console.log(JSON.stringify(line))
}
