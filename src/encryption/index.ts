/**
 * Encryption at rest, byte-compatible with kube-apiserver's static providers (identity, aescbc,
 * aesgcm, secretbox). Load a configuration once (ciphers are keyed then), then ask it for a
 * resource's transformer: loadEncryptionConfiguration(path).transformerFor('secrets').
 */
export type { Transformer, TransformContext, ReadResult, TransformerForResource } from './transformer.js';
export { parseEncryptionConfiguration, loadEncryptionConfiguration, loadTransformers } from './load.js';
export {
  decodeEncryptionConfiguration,
  formatEncryptionConfiguration,
  ConfigError,
  API_VERSION,
  KIND,
  type EncryptionConfiguration,
  type ResourceConfig,
  type ProviderConfig,
  type KeyConfig,
  type ProviderType,
  type KeyedProviderType,
} from './configuration.js';
export { buildEncryption, type EncryptionSetup, type ProviderKeyRef, type ResolvedResource } from './build.js';
export { classifyStoredValue, matchingEntry, type StoredValueKind } from './inspect.js';
export { resourceForEtcdKey } from './etcd-key.js';
export { TransformError, StorageTransformError } from './errors.js';
export { identity, IdentityTransformer } from './identity.js';
export { AesCbcTransformer } from './aes-cbc.js';
export { AesGcmTransformer } from './aes-gcm.js';
export { SecretboxTransformer } from './secretbox.js';
export { PrefixTransformers, type PrefixEntry } from './prefix.js';
