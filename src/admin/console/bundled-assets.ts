import { CONSOLE_PAGE, CONSOLE_SCRIPT, CONSOLE_STYLE } from './console-assets.ts'
import type { ConsoleAssets, ConsoleFile } from './console-source.ts'

const FILES: Readonly<Record<ConsoleFile, string>> = {
  page: CONSOLE_PAGE,
  script: CONSOLE_SCRIPT,
  style: CONSOLE_STYLE,
}

/**
 * The console's files as generated strings (console-assets.ts): what Node, Deno and the
 * `keyline` package serve. The Worker serves the same files from its static assets instead.
 */
export const bundledConsoleAssets: ConsoleAssets = (file) => FILES[file]
