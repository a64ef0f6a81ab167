import { FieldCipher, loadConfigOrExit, rotateEncryptedRecords } from '../libs/common/src/index.js';
import { createDataSource } from './data-source.js';

/**
 * npm run rotate-keys: re-encrypts every stored sensitive value (run history,
 * outbox, dead letters, step results) under ENCRYPTION_ACTIVE_KEY. Keep the
 * old keys in ENCRYPTION_KEYS while JetStream may still hold messages
 * encrypted under them (docs/durability.md).
 */
const config = loadConfigOrExit();
const cipher = FieldCipher.fromConfig(config);
if (!cipher.enabled) {
  process.stderr.write('rotate-keys: set ENCRYPTION_KEYS and ENCRYPTION_ACTIVE_KEY first\n');
  process.exit(78);
}
const dataSource = createDataSource();
await dataSource.initialize();
try {
  const counts = await rotateEncryptedRecords(dataSource, cipher);
  for (const c of counts) process.stdout.write(`rotate-keys: ${c.table}: ${c.rewritten} rows rewritten (${c.values} values) of ${c.scanned} holding encrypted values\n`);
  process.stdout.write(`rotate-keys: everything stored is under key "${cipher.activeKeyId}"\n`);
} finally {
  await dataSource.destroy();
}
