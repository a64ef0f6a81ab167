// npm run migration:create -- <name>: writes migrations/<timestamp>-<name>.ts (a hand-written SQL
// migration, the project's convention) and registers it last in migrations/index.ts.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const name = process.argv[2];
if (!name || !/^[a-z][a-z0-9-]*$/.test(name)) {
  console.error('usage: npm run migration:create -- <name>   (lower case, digits and dashes, e.g. add-run-tags)');
  process.exit(64);
}
const timestamp = Date.now();
const className = `${name.split('-').map((w) => w[0].toUpperCase() + w.slice(1)).join('')}${timestamp}`;
const file = `${timestamp}-${name}`;
const path = join(root, 'migrations', `${file}.ts`);
if (existsSync(path)) {
  console.error(`${path} exists already`);
  process.exit(73);
}
writeFileSync(
  path,
  `import type { MigrationInterface, QueryRunner } from 'typeorm';

/** TODO: what this migration changes, and why. */
export class ${className} implements MigrationInterface {
  name = '${className}';

  async up(q: QueryRunner): Promise<void> {
    await q.query(\`SELECT 1\`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(\`SELECT 1\`);
  }
}
`,
);
const indexPath = join(root, 'migrations', 'index.ts');
let index = readFileSync(indexPath, 'utf8');
const importLines = [...index.matchAll(/^import .*;$/gm)];
const lastImport = importLines[importLines.length - 1];
const at = lastImport.index + lastImport[0].length;
index = `${index.slice(0, at)}\nimport { ${className} } from './${file}.js';${index.slice(at)}`;
index = index.replace(/(export const MIGRATIONS = \[[\s\S]*?)(\n\];)/, `$1\n  ${className},$2`);
writeFileSync(indexPath, index);
console.log(`wrote migrations/${file}.ts and registered ${className} in migrations/index.ts; write its SQL, then npm run build && npm run migrate`);
