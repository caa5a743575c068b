/**
 * `@loa/protocol/fs`: the only part of the protocol that touches the file system. Bundle
 * directories, bundle tar files, and blob verification (files and streams).
 */
export {
  type AtomicWriteOptions,
  fsyncDir,
  makeStagingDir,
  removeStaleTemps,
  writeFileAtomic,
  writeJsonAtomic,
} from './atomic.js';
export {
  type BlobExpectation,
  BlobHasher,
  createBlobVerifier,
  HASH_CHUNK_BYTES,
  hashFile,
  hashFileRange,
  ReadBuffers,
  verifyBlobFile,
} from './blob.js';
export {
  assertEmptyOrAbsent,
  BLOBS_DIR,
  type BuildBundleInput,
  blobPath,
  buildBundleDir,
  checkBundleFiles,
  importBlob,
  MANIFEST_FILE,
  parseManifestUnverified,
  publishDir,
  readManifestBytes,
  signBundleDir,
  verifyBundleDir,
  writeManifestFile,
} from './bundle-dir.js';
export { packBundle, readTarManifest, safeEntryPath, unpackBundle, verifyBundleTar } from './bundle-tar.js';
export { kindForMediaType, MEDIA_TYPES, mediaTypeForPath } from './media.js';
export {
  packRelease,
  RELEASE_COMPLETE_FILE,
  type UnpackReleaseOptions,
  unpackRelease,
} from './release-tar.js';
export {
  BLOCK,
  decodeHeader,
  encodeHeader,
  MAX_USTAR_SIZE,
  padding,
  type TarEntry,
  type TarHeader,
  TarReader,
} from './tar.js';
