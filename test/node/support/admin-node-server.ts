/**
 * A Node deployment of keyline with the admin API, like `src/entries/node.ts`: listens on
 * HOST/PORT (PORT=0 picks a free port), reads `_FILE` secrets from disk, prints its URL.
 */
import { readFile } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { listenOptions } from '../../../src/entries/listen-options.ts'
import { SecretRegistry } from '../../../src/secrets/registry.ts'
import { adminApp } from './admin-app.ts'

const listen = listenOptions(process.env)
const registry = new SecretRegistry({ readFile: (path) => readFile(path, 'utf8') })
const app = adminApp(registry, 'node')
const server = serve({ fetch: app.fetch, hostname: listen.hostname, port: listen.port }, () => {
  const { port } = server.address() as AddressInfo
  const url = `http://${listen.hostname}:${port}`
  console.log(JSON.stringify({ level: 'info', msg: 'keyline listening', runtime: 'node', url }))
})
process.once('SIGTERM', () => server.close(() => process.exit(0)))
