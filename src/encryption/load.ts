import { readFileSync } from 'node:fs';
import { UserError } from '../util/errors.js';
import { decodeEncryptionConfiguration } from './configuration.js';
import { buildEncryption, type EncryptionSetup } from './build.js';
import { identity } from './identity.js';
import type { TransformerForResource } from './transformer.js';

/**
 * The entry points callers use: a configuration in, kube-apiserver's transformers out
 * (`.transformerFor(groupResource)`), with `.config` and `.resolve()` for introspection.
 */

/** Parses, validates and builds a configuration (YAML or JSON). Throws ConfigError naming the fields. */
export function parseEncryptionConfiguration(text: string, source?: string): EncryptionSetup {
  return buildEncryption(decodeEncryptionConfiguration(text, source));
}

/** The same from a file. Every failure is a one-line UserError naming the file. */
export function loadEncryptionConfiguration(path: string): EncryptionSetup {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : (err as Error).message;
    throw new UserError(`cannot read encryption configuration ${path}: ${why}`);
  }
  return parseEncryptionConfiguration(text, path);
}

/**
 * What an API server stores with: the transformers of its configuration file when it has one,
 * identity for every resource when it has none.
 */
export function loadTransformers(path: string | undefined): TransformerForResource {
  if (path === undefined) return () => identity;
  return loadEncryptionConfiguration(path).transformerFor;
}
