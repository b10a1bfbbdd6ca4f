import { type ProviderId, providerDefinitions } from '../providers/index.ts'
import { rotatingCredential } from '../rotation/rotating-credential.ts'
import {
  checkStep,
  finalCheckStep,
  reloadStep,
  waitCurrentStep,
  waitNextValidStep,
} from './common-steps.ts'
import type { RotateStep } from './rotate-step.ts'
import { writeSecretFile } from './secret-files.ts'
import type { WranglerRunner } from './wrangler.ts'

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
    reloadStep(staged),
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
    reloadStep(promoted),
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
    reloadStep(staged),
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
    reloadStep(promoted),
    finalCheckStep(promoted),
  ]
}

/** The steps an operator follows by hand on a Node deployment when no file paths were given. */
export const nodeManualSteps = (provider: ProviderId, url: string): string => {
  const { main, next } = rotationVariables(provider)
  const cli = `keyline --url ${url}`
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
    `Or let keyline do it: keyline rotate ${provider} --target node --current-file <path> --next-file <path>`,
  ].join('\n')
}
