// The README's JavaScript block runs as written (against the built package).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

test('the README example runs', async () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const blocks = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]);
  assert.equal(blocks.length, 1);
  const pkg = new URL('../pkg/index.js', import.meta.url).href;
  const file = join(mkdtempSync(join(tmpdir(), 'readme-')), 'example.mjs');
  writeFileSync(file, `${blocks[0].replace("from 'affiliate-sdk'", `from '${pkg}'`)}\nexport { token, url };\n`);
  const { token, url } = await import(pathToFileURL(file).href);
  assert.match(url, /^https:\/\/t\.shop\.example\/go\/haircare\/abc123\/website2\?sig=k1\.[\w-]{22}&sid=kw1$/);
  assert.match(token, /^v1\.k1\./);
});

test('the reference page docs/javascript.md runs', async () => {
  const page = readFileSync(new URL('../../../docs/javascript.md', import.meta.url), 'utf8');
  const blocks = [...page.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]);
  assert.ok(blocks.length >= 1);
  const pkg = new URL('../pkg/index.js', import.meta.url).href;
  for (const [i, block] of blocks.entries()) {
    const file = join(mkdtempSync(join(tmpdir(), 'docs-')), `block${i}.mjs`);
    writeFileSync(file, block.replace("from 'affiliate-sdk'", `from '${pkg}'`));
    await import(pathToFileURL(file).href);
  }
});
