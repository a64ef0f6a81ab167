import { bootstrapService } from '../../../libs/common/src/index.js';
import { DocumentsModule } from './documents.module.js';

export function startDocuments(shutdownHooks = true) {
  return bootstrapService(DocumentsModule, { service: 'documents', port: (c) => c.ports.documents, shutdownHooks });
}

if (import.meta.url === `file://${process.argv[1]}`) await startDocuments();
