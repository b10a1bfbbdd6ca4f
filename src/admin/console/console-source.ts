import type { Context } from 'hono'

/** The console's three files: the page (`GET /admin`), its script and its style sheet. */
export type ConsoleFile = 'page' | 'script' | 'style'

/**
 * Where the console's files come from, passed in by the entry: the generated strings
 * (`bundledConsoleAssets`: Node, Deno, the `keyline` package) or a static asset server's answer
 * (the Worker's `ASSETS` binding, so its bundle carries none of them). Returns the file's text,
 * or the asset server's response (200, or 304 to a conditional request); keyline sets the
 * content type, caching and security headers either way.
 */
export type ConsoleAssets = (file: ConsoleFile, c: Context) => string | Promise<Response>

/**
 * The files' names in the static assets directory (`[assets]` of wrangler.toml), written by
 * scripts/generate-console.ts and fetched by the Worker's `ASSETS` source.
 */
export const CONSOLE_FILE_NAMES: Readonly<Record<ConsoleFile, string>> = {
  page: 'console.html',
  script: 'console.js',
  style: 'console.css',
}

let installedConsoleAssets: ConsoleAssets | undefined

/**
 * Installs the console's files for every admin app that is given no `console` option
 * (importing the `keyline` package installs the generated strings). Without either, the console
 * answers 404.
 */
export const useConsoleAssets = (assets: ConsoleAssets): void => {
  installedConsoleAssets = assets
}

/** The installed console files, if any. */
export const installedConsole = (): ConsoleAssets | undefined => installedConsoleAssets
