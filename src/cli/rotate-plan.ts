import { rename, writeFile } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import type { ProviderStatus } from '../admin/key-status.ts'
import { type ProviderId, providerDefinitions } from '../catalog/providers.ts'
import { rotatingCredential } from '../rotation/rotating-credential.ts'
import { REDACTED } from '../secrets/fingerprint.ts'
import type { AdminClient } from './admin-client.ts'
import { CliError } from './cli-error.ts'
import { commandLine } from './command-line.ts'
import { reloadOutcome } from './reach.ts'
import { type Verdict, type WaitOptions, waitForStatus } from './wait-for-status.ts'
import type { WranglerRunner } from './wrangler.ts'

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

/**
 * Replaces a secret file atomically (a temporary file beside it, mode 0600, then a rename), so
 * a reader sees the old content or the new one, never a partial write.
 */
const writeSecretFile = async (path: string, content: string): Promise<void> => {
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`)
  await writeFile(temporary, content, { mode: 0o600 })
  await rename(temporary, path)
}

/** `GET /admin/keys/status`: the deployment answers, and the new key is not the current one. */
const checkStep = (onFailure: string): RotateStep => ({
  title: 'Check the deployment: GET /admin/keys/status',
  onFailure,
  async run({ client, provider, expected }) {
    const status = (await client.status()).providers[provider]
    const current = status.current?.fingerprint ?? 'none'
    if (expected !== REDACTED && current === expected) {
      throw new CliError(
        `The new key has the fingerprint of the current one (${current}): it is already current`
      )
    }
    return `runtime ${provider}: current ${current} (${status.source ?? 'not configured'})`
  },
})

/**
 * `POST /admin/keys/reload`; its outcome says how far the reload reached (`others`: how the
 * other instances see the change without a shared store).
 */
const reloadStep = (onFailure: string, others: string): RotateStep => ({
  title: 'Reload: POST /admin/keys/reload',
  onFailure,
  async run({ client }) {
    const { runtime, reload, warning } = await client.reload()
    // The reload stands on this instance; the shared store could not carry it further.
    if (warning) return `reloaded this instance only; warning: ${warning}`
    return reloadOutcome(runtime, reload.propagated, reload.epoch, others)
  },
})

const WORKERS_OTHERS = "other isolates see the new secret once wrangler's deployment reaches them"
const NODE_OTHERS = 'other processes re-read the files within 5 s on their own'

/** Polls until the staged key is seen and validated upstream; `invalid` fails at once. */
const waitNextValidStep = (onFailure: string): RotateStep => ({
  title: 'Wait for the deployment to report the staged key next: valid',
  onFailure,
  run: ({ client, provider, expected, wait }) =>
    waitForStatus(
      client,
      provider,
      (s) => {
        if (!s.next || s.next.fingerprint !== expected) {
          return { done: false, waiting: `the deployment to show next ${expected}` }
        }
        if (s.next.validity === 'valid') return { done: true, detail: `next ${expected}: valid` }
        if (s.next.validity === 'invalid') {
          return {
            failed: `The upstream rejected the new key: next ${expected} is invalid (${s.next.reason ?? 'no reason'})`,
          }
        }
        return {
          done: false,
          waiting: `next ${expected} to be validated (${s.next.reason ?? 'unknown'})`,
        }
      },
      wait
    ),
})

/** The "not yet" verdict while the current key is not the expected one, else `undefined`. */
const currentNot = (s: ProviderStatus, expected: string): Verdict | undefined =>
  s.current?.fingerprint === expected
    ? undefined
    : { done: false, waiting: `current ${expected} (now ${s.current?.fingerprint ?? 'none'})` }

/** Polls until the deployment's current key is the new one. */
const waitCurrentStep = (onFailure: string): RotateStep => ({
  title: 'Wait for the deployment to use the new key as current',
  onFailure,
  run: ({ client, provider, expected, wait }) =>
    waitForStatus(
      client,
      provider,
      (s) => currentNot(s, expected) ?? { done: true, detail: `current ${expected} (${s.source})` },
      wait
    ),
})

/** The final check: configured, current is the new key, nothing staged. */
const finalCheckStep = (onFailure: string): RotateStep => ({
  title: 'Check status: configured, current is the new key, no next key staged',
  onFailure,
  run: ({ client, provider, expected, wait }) =>
    waitForStatus(
      client,
      provider,
      (s) => {
        if (!s.configured)
          return { done: false, waiting: `${provider} to be configured (${s.reasons.join(', ')})` }
        const notYet = currentNot(s, expected)
        if (notYet) return notYet
        if (s.next)
          return { done: false, waiting: `the staged key ${s.next.fingerprint} to be gone` }
        return { done: true, detail: `${provider}: configured, current ${expected}, no next key` }
      },
      wait
    ),
})

/** The variables a rotation of `provider` touches: the main one and its `_NEW` beside it. */
export const rotationVariables = (provider: ProviderId): { main: string; next: string } => {
  const { definition } = rotatingCredential(provider)
  return { main: definition.env[0], next: definition.next }
}

const label = (provider: ProviderId): string =>
  `${providerDefinitions[provider].name} ${rotatingCredential(provider).definition.label}`

/**
 * A Workers rotation: stage `<NAME>_NEW` with wrangler, reload, wait for `next: valid`, put the
 * value in `<NAME>`, delete `<NAME>_NEW`, reload, check. Nothing touches `<NAME>` before the
 * deployment has validated the new key.
 */
export const workersPlan = (provider: ProviderId, wrangler: WranglerRunner): RotateStep[] => {
  const { main, next } = rotationVariables(provider)
  const kept = `The old key is still current in ${main} and keeps working; nothing was promoted.`
  const staged = `${kept} ${next} may hold the new key: remove it with \`wrangler secret delete ${next}\`.`
  const promoted = `${main} holds the new key. Finish by hand: \`wrangler secret delete ${next}\`, then \`keyline reload\` and \`keyline status\`.`
  return [
    checkStep(kept),
    {
      title: `Stage the new ${label(provider)}: wrangler secret put ${next} (value on stdin)`,
      onFailure: staged,
      async run({ secret }) {
        await wrangler(['secret', 'put', next], secret)
        return `${next} put; a new deployment carries it`
      },
    },
    reloadStep(staged, WORKERS_OTHERS),
    waitNextValidStep(staged),
    {
      title: `Promote: wrangler secret put ${main} (value on stdin)`,
      onFailure: `${staged} If ${main} was updated anyway, the new key is valid and in use.`,
      async run({ secret }) {
        await wrangler(['secret', 'put', main], secret)
        return `${main} put`
      },
    },
    waitCurrentStep(promoted),
    {
      title: `Remove the staged key: wrangler secret delete ${next}`,
      onFailure: promoted,
      async run() {
        await wrangler(['secret', 'delete', next])
        return `${next} deleted`
      },
    },
    reloadStep(promoted, WORKERS_OTHERS),
    finalCheckStep(promoted),
  ]
}

/**
 * A Node (or Deno) rotation through the files named by `<NAME>_NEW_FILE` and `<NAME>_FILE`:
 * write the next file, reload, wait for `next: valid`, write the main file, empty the next file,
 * reload, check. The main file is replaced atomically and only after validation.
 */
export const nodePlan = (
  provider: ProviderId,
  files: { current: string; next: string }
): RotateStep[] => {
  const { main, next } = rotationVariables(provider)
  const kept = `The old key is still current in ${files.current} and keeps working; nothing was promoted.`
  const staged = `${kept} ${files.next} may hold the new key: empty it and run \`keyline reload\`.`
  const promoted = `${files.current} holds the new key. Finish by hand: empty ${files.next}, then \`keyline reload\` and \`keyline status\`.`
  return [
    checkStep(kept),
    {
      title: `Stage the new ${label(provider)}: write ${files.next} (${next}_FILE)`,
      onFailure: staged,
      async run({ secret }) {
        await writeSecretFile(files.next, `${secret}\n`)
        return `${files.next} written (mode 0600)`
      },
    },
    reloadStep(staged, NODE_OTHERS),
    waitNextValidStep(staged),
    {
      title: `Promote: write ${files.current} (${main}_FILE), atomically`,
      onFailure: staged,
      async run({ secret }) {
        await writeSecretFile(files.current, `${secret}\n`)
        return `${files.current} written`
      },
    },
    {
      title: `Remove the staged key: empty ${files.next}`,
      onFailure: promoted,
      async run() {
        await writeSecretFile(files.next, '')
        return `${files.next} emptied`
      },
    },
    reloadStep(promoted, NODE_OTHERS),
    finalCheckStep(promoted),
  ]
}

/** The steps an operator follows by hand on a Node deployment when no file paths were given. */
export const nodeManualSteps = (provider: ProviderId, url: string | undefined): string => {
  const { main, next } = rotationVariables(provider)
  // The URL as the user gave it: their --url, else nothing (KEYLINE_URL serves the next run too).
  const cli = url === undefined ? 'keyline' : commandLine(['--url', url])
  return [
    `To rotate the ${label(provider)} of a Node or Deno deployment:`,
    `  1. Write the new key to the file named by ${next}_FILE (mode 0600). Without _FILE variables,`,
    `     set ${next} in the service's environment and restart it instead.`,
    `  2. ${cli} reload`,
    `  3. ${cli} status   and wait until ${provider} shows next: valid (stop if it says invalid)`,
    `  4. Replace the file named by ${main}_FILE with the new key (write a temporary file, then rename it).`,
    `  5. Empty the file named by ${next}_FILE.`,
    `  6. ${cli} reload`,
    `  7. ${cli} status   and check that current shows the new key's fingerprint and no next key.`,
    `Behind a process manager or cluster, every process re-reads the files within 5 s on its own;`,
    `\`reload\` reaches only the process that answers it.`,
    `Or let keyline do it: ${cli} rotate ${provider} --target node --current-file <path> --next-file <path>`,
  ].join('\n')
}
