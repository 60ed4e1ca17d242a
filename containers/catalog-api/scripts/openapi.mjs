#!/usr/bin/env node
// Writes the API's OpenAPI 3.1 document (src/contract.mjs) to openapi.json beside package.json: the file the app
// layer builds API Gateway's documentation from and `invoke docs` renders the README's route table from, so neither
// needs Node. `npm test` fails when the file is not the current document (test/contract.test.mjs).
//   node scripts/openapi.mjs        (npm run openapi; `invoke docs` runs it)
import { writeFileSync } from 'node:fs';
import { openApiDocument } from '../src/contract.mjs';

export const DOCUMENT_FILE = new URL('../openapi.json', import.meta.url);
export const documentText = () => `${JSON.stringify(openApiDocument(), null, 2)}\n`;

if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync(DOCUMENT_FILE, documentText());
  process.stdout.write(`wrote ${DOCUMENT_FILE.pathname}\n`);
}
