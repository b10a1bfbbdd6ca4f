import { spawnSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { Fernet, MultiFernet } from '../../src/vault/fernet.ts'

/** Runs `script` in python3 with `input` on stdin; its stdout, trimmed. */
const python = (script: string, input: string): string => {
  const run = spawnSync('python3', ['-c', script], { input, encoding: 'utf8' })
  expect(run.status, run.stderr).toBe(0)
  return run.stdout.trim()
}

const DECRYPT = `
import sys, json
from cryptography.fernet import Fernet
job = json.load(sys.stdin)
print(Fernet(job["key"]).decrypt(job["token"], ttl=job.get("ttl")).decode())`

const ENCRYPT = `
import sys, json
from cryptography.fernet import Fernet
job = json.load(sys.stdin)
print(Fernet(job["key"]).encrypt(job["text"].encode()).decode())`

const ROTATE = `
import sys, json
from cryptography.fernet import Fernet, MultiFernet
job = json.load(sys.stdin)
print(MultiFernet([Fernet(job["new"]), Fernet(job["old"])]).rotate(job["token"]).decode())`

describe("Fernet interoperates with Python's cryptography.fernet", () => {
  it('a keyline token decrypts in Python, with a TTL too', async () => {
    const key = Fernet.generateKey()
    const value = `fyers-${crypto.randomUUID()}-✓`
    const token = await new Fernet(key).encrypt(value)
    expect(python(DECRYPT, JSON.stringify({ key, token, ttl: 60 }))).toBe(value)
  })

  it('a Python token (and a Python key) decrypts in keyline', async () => {
    const key = python(
      'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())',
      ''
    )
    const value = `from-python-${crypto.randomUUID()}`
    const token = python(ENCRYPT, JSON.stringify({ key, text: value }))
    const plain = await new Fernet(key).decrypt(token, { ttl: 60 })
    expect(new TextDecoder().decode(plain)).toBe(value)
  })

  it('MultiFernet.rotate matches Python: each side reads what the other rotated, same timestamp', async () => {
    const [oldKey, newKey] = [Fernet.generateKey(), Fernet.generateKey()]
    const legacy = await new Fernet(oldKey).encryptAtTime('rotate-me', 1_650_000_000)
    const byPython = python(ROTATE, JSON.stringify({ new: newKey, old: oldKey, token: legacy }))
    const byKeyline = await new MultiFernet([new Fernet(newKey), new Fernet(oldKey)]).rotate(legacy)
    for (const token of [byPython, byKeyline]) {
      expect(await new Fernet(newKey).extractTimestamp(token)).toBe(1_650_000_000)
      expect(python(DECRYPT, JSON.stringify({ key: newKey, token }))).toBe('rotate-me')
    }
  })
})
