// class-transformer 0.5 keeps its decorator metadata in this module (not re-exported by its index).
declare module 'class-transformer/cjs/storage.js' {
  export const defaultMetadataStorage: import('class-transformer/types/MetadataStorage.js').MetadataStorage;
}
