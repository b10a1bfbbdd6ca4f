/// <reference lib="deno.ns" />
import assert from 'node:assert/strict'
import { createRedactor } from '../../src/redact/index.ts'
import { longLeaks } from '../support/leak-fuzz.ts'
import { randomSecret } from '../support/secret-pieces.ts'

/**
 * On Deno, as on Node and workerd (test/unit/redact-line-breaks.test.ts): a key that line
 * breaks cut into pieces shorter than a run is replaced in a body, in its bytes and in a stream
 * whose chunks are cut at every line.
 */
const key = randomSecret('sk-ant-api03-', 90)
const redactor = createRedactor().withSecrets([key])
const wrapped = (width: number, separator: string): string =>
  (key.match(new RegExp(`.{1,${width}}`, 'g')) ?? []).join(separator)

Deno.test('redactor: a key wrapped at widths 1 to 12 is replaced in a body and its bytes', () => {
  for (let width = 1; width <= 12; width++) {
    for (const separator of ['\n', '\r\n', '\\n']) {
      const text = `{"text":"${wrapped(width, separator)}"}`
      const body = redactor.redactBody(text)
      assert.deepEqual(longLeaks(body, [key]), [], `${width} ${JSON.stringify(separator)}`)
      const bytes = redactor.redactBodyBytes(new TextEncoder().encode(text), text)
      assert.equal(typeof bytes === 'string' ? bytes : new TextDecoder().decode(bytes), body)
    }
  }
})

Deno.test('redactor: a wrapped key is replaced in a stream cut after every line', async () => {
  for (const width of [1, 3, 7]) {
    const lines = wrapped(width, '\n').split('\n')
    const stream = ReadableStream.from(lines.map((line) => new TextEncoder().encode(`${line}\n`)))
    const out = await new Response(stream.pipeThrough(redactor.bodyStream())).text()
    assert.deepEqual(longLeaks(out, [key]), [], `${width}`)
    assert.equal(out, redactor.redactBody(`${lines.join('\n')}\n`))
  }
})
