#!/usr/bin/env node
// `npm run schema`: writes config.schema.json from the config schema (build first: it imports dist/).
// With --check it writes nothing and exits 1 when the file is out of date.
import { readFileSync, writeFileSync } from 'node:fs';
import process from 'node:process';
import { URL } from 'node:url';
import { configJsonSchemaText } from '../dist/config/json-schema.js';

const target = new URL('../config.schema.json', import.meta.url);
const text = configJsonSchemaText();

if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(target, 'utf8');
  } catch (error) {
    if (error.code !== 'ENOENT') throw error;
  }
  if (current !== text) {
    process.stderr.write('config.schema.json is out of date: run npm run schema\n');
    process.exit(1);
  }
  process.stdout.write('config.schema.json is up to date\n');
} else {
  writeFileSync(target, text);
  process.stdout.write(`wrote ${target.pathname}\n`);
}
