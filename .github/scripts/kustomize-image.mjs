#!/usr/bin/env node
// Reads and moves the image an environment runs: the `images:` entry of a kustomization.yaml
// (https://kubectl.docs.kubernetes.io/references/kustomize/kustomization/images/), pinned by digest.
//   kustomize-image.mjs get KUSTOMIZATION NAME       print the entry NAME as newName@digest (fails without a digest)
//   kustomize-image.mjs set KUSTOMIZATION NAME REF   REF = registry/repository@sha256:<64 hex>: set newName and digest,
//                                                    drop newTag; prints "unchanged" or "changed"
// Comments and the order of everything else are kept (the yaml package's Document API). Bad input: one line on
// stderr, exit 2 for usage, 1 for a file that cannot be read or edited.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

// The yaml package comes from the workflow tests' lockfile (.github/tests, installed by npm ci): one pinned copy.
const require = createRequire(new URL('../tests/package.json', import.meta.url));
const YAML = require('yaml');

const REF = /^([a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)+)@(sha256:[0-9a-f]{64})$/;

function fail(message, code = 1) {
  process.stderr.write(`kustomize-image: ${message}\n`);
  process.exit(code);
}

function load(file) {
  let text;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    fail(`cannot read ${file}: ${e.code ?? e.message}`);
  }
  const doc = YAML.parseDocument(text);
  if (doc.errors.length) fail(`${file} is not valid YAML: ${doc.errors[0].message.split('\n')[0]}`);
  if (doc.get('kind') !== 'Kustomization') fail(`${file} is not a Kustomization (kind: ${doc.get('kind')})`);
  return doc;
}

function entry(doc, name) {
  const images = doc.get('images');
  if (images === undefined) return undefined;
  if (!YAML.isSeq(images)) fail('images: is not a list');
  return images.items.find((i) => YAML.isMap(i) && i.get('name') === name);
}

const [cmd, file, name, ref] = process.argv.slice(2);
const usage = 'usage: kustomize-image.mjs get KUSTOMIZATION NAME | set KUSTOMIZATION NAME REGISTRY/REPO@sha256:DIGEST';
if (cmd === 'get' && file && name && ref === undefined) {
  const e = entry(load(file), name);
  if (!e) fail(`${file} has no images: entry named ${name}`);
  const newName = e.get('newName') ?? name;
  const digest = e.get('digest');
  if (!digest) fail(`${file}: the image ${name} is not pinned by digest (newTag: ${e.get('newTag') ?? 'none'})`);
  if (!REF.test(`${newName}@${digest}`)) fail(`${file}: ${newName}@${digest} is not registry/repository@sha256:<64 hex>`);
  process.stdout.write(`${newName}@${digest}\n`);
} else if (cmd === 'set' && file && name && ref) {
  const m = REF.exec(ref);
  if (!m) fail(`${ref} is not registry/repository@sha256:<64 hex> (lower case, with a registry host)`, 2);
  const [, newName, digest] = m;
  const doc = load(file);
  const before = doc.toString();
  let e = entry(doc, name);
  if (!e) {
    if (doc.get('images') === undefined) doc.set('images', doc.createNode([]));
    e = doc.createNode({ name });
    doc.get('images').add(e);
  }
  e.set('newName', newName);
  e.delete('newTag');
  e.set('digest', digest);
  const after = doc.toString();
  if (after !== before) writeFileSync(file, after);
  process.stdout.write(after === before ? 'unchanged\n' : 'changed\n');
} else {
  fail(usage, 2);
}
