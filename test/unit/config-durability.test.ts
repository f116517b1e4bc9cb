// audit.durability in configs: buffered by default, acknowledged on request, and a personal config
// over a base can make it stricter but never relax it (floor semantics).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/loader.js';

function files(t: { after(fn: () => void): void }, base: string, personal: (pin: string) => string): string {
  const dir = mkdtempSync(join(tmpdir(), 'mg-dur-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'base.yaml'), base);
  const file = join(dir, 'mcp-guard.yaml');
  writeFileSync(file, personal(createHash('sha256').update(base).digest('hex')));
  return file;
}

const SERVER = 'servers:\n  s: { command: /bin/true }\n';

test('durability is buffered by default and acknowledged when asked', async (t) => {
  const plain = files(t, SERVER, () => SERVER);
  assert.equal((await loadConfig(plain)).config.audit.durability, 'buffered');
  const acked = files(t, SERVER, () => `${SERVER}audit: { durability: acknowledged }\n`);
  assert.equal((await loadConfig(acked)).config.audit.durability, 'acknowledged');
  const bad = files(t, SERVER, () => `${SERVER}audit: { durability: sometimes }\n`);
  await assert.rejects(loadConfig(bad), /durability/);
});

test('over a base: acknowledged can be asked for, but a base that acknowledges cannot be relaxed', async (t) => {
  const stricter = files(t, SERVER, (pin) => `extends: { path: base.yaml, sha256: "${pin}" }\naudit: { durability: acknowledged }\n`);
  assert.equal((await loadConfig(stricter)).config.audit.durability, 'acknowledged');
  const base = `${SERVER}audit: { durability: acknowledged }\n`;
  const inherited = files(t, base, (pin) => `extends: { path: base.yaml, sha256: "${pin}" }\n`);
  assert.equal((await loadConfig(inherited)).config.audit.durability, 'acknowledged');
  const relaxed = files(t, base, (pin) => `extends: { path: base.yaml, sha256: "${pin}" }\naudit: { durability: buffered }\n`);
  await assert.rejects(loadConfig(relaxed), /mcp-guard\.yaml:2:\d+: .*cannot relax audit\.durability 'acknowledged' of its base/);
});
