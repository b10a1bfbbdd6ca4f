import { toBase64Url } from '../encoding.ts'
import { base64Fragments } from './base64.ts'
import { jsonEscapedForms } from './json-escape.ts'
import { lowerHex, percentEncodedForms } from './percent-encode.ts'

const encoder = new TextEncoder()

/**
 * Every form in which `secret` may sit in a text: as is, percent-encoded
 * ({@link percentEncodedForms}), JSON-escaped ({@link jsonEscapedForms}) and base64-encoded,
 * standard and base64url, at each of the 3 byte alignments ({@link base64Fragments}), with the
 * standard base64 also percent-encoded and `/`-escaped as in JSON. Forms shorter than
 * `minLength` are left out; the result has no duplicates.
 */
export const secretForms = (secret: string, minLength: number): string[] => {
  const forms = new Set<string>([
    secret,
    ...percentEncodedForms(secret),
    ...jsonEscapedForms(secret),
  ])
  for (const fragment of base64Fragments(encoder.encode(secret))) {
    const escaped = fragment.replace(/\+/g, '%2B').replace(/\//g, '%2F')
    forms.add(fragment)
    forms.add(toBase64Url(fragment))
    forms.add(escaped)
    forms.add(lowerHex(escaped))
    forms.add(fragment.replace(/\//g, '\\/'))
  }
  return [...forms].filter((form) => form.length >= minLength)
}
