/**
 * A tiny certificate authority for the control plane: one CA, serving certificates for etcd and
 * the API servers, client certificates for etcdctl/kubectl/the API server's etcd client.
 *
 * ECDSA P-256 with SHA-256: accepted by Go's crypto/tls (etcd 3.4 on Go 1.19, kubectl) and by
 * Node's TLS. Private keys are PKCS#8 PEM ("PRIVATE KEY"), which Go's tls.X509KeyPair reads.
 * Everything here is pure apart from the random numbers: PEM strings in, PEM strings out.
 */
// tsyringe under @peculiar/x509 needs the Reflect metadata API.
import 'reflect-metadata';
import { webcrypto, randomBytes, X509Certificate as NodeX509 } from 'node:crypto';
import { isIP } from 'node:net';
import * as x509 from '@peculiar/x509';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
const crypto = webcrypto;
// x509's types name the DOM Crypto; Node's webcrypto is that same API.
x509.cryptoProvider.set(crypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const KEY_ALG: webcrypto.EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' };
const SIGN_ALG = { name: 'ECDSA', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;
/** Tolerates small clock differences between the machines that check a fresh certificate. */
const BACKDATE_MS = 5 * 60_000;

/** A certificate with its private key, both PEM. */
export interface CertKeyPair {
  certPem: string;
  keyPem: string;
}

export interface CaOptions {
  commonName?: string;
  validityDays?: number;
}

export interface ServerCertOptions {
  commonName: string;
  /** DNS names for the SAN; IP literals given here go to the IP SANs. */
  dnsNames?: string[];
  /** Extra IP SANs; 127.0.0.1 and ::1 are always included. */
  ipAddresses?: string[];
  validityDays?: number;
  /**
   * Also valid as a TLS client (etcd members use their serving certificate towards peers).
   * Default true.
   */
  clientAuth?: boolean;
}

export interface ClientCertOptions {
  /** The user name (Kubernetes reads CN as the user, O as groups). */
  commonName: string;
  organizations?: string[];
  validityDays?: number;
}

function serialNumber(): string {
  const b = randomBytes(16);
  b[0] = b[0]! & 0x7f; // DER integers are signed: keep the serial positive
  if (b[0] === 0) b[0] = 1;
  return b.toString('hex');
}

async function newKeys(): Promise<CryptoKeyPair> {
  return (await crypto.subtle.generateKey(KEY_ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
}

async function keyPem(key: CryptoKey): Promise<string> {
  const der = await crypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode([{ type: 'PRIVATE KEY', rawData: der }]);
}

/** Distinguished names are written as "CN=x, O=y"; escape the characters RFC 4514 reserves. */
function dnValue(v: string): string {
  return v.replace(/([,+"\\<>;=])/g, '\\$1').replace(/^([ #])/, '\\$1').replace(/ $/, '\\ ');
}

function validity(days: number): { notBefore: Date; notAfter: Date } {
  const now = Date.now();
  return { notBefore: new Date(now - BACKDATE_MS), notAfter: new Date(now + days * DAY_MS) };
}

/** Creates a self-signed CA. */
export async function createCA(opts: CaOptions = {}): Promise<CertKeyPair> {
  const keys = await newKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: `CN=${dnValue(opts.commonName ?? 'etcd-ops-ca')}`,
    ...validity(opts.validityDays ?? 3650),
    signingAlgorithm: SIGN_ALG,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: await keyPem(keys.privateKey) };
}

interface LoadedCA {
  cert: x509.X509Certificate;
  key: CryptoKey;
}

async function loadCA(ca: CertKeyPair): Promise<LoadedCA> {
  const cert = new x509.X509Certificate(ca.certPem);
  const bc = cert.getExtension(x509.BasicConstraintsExtension);
  if (!bc?.ca) throw new Error('the given CA certificate is not a CA (basicConstraints CA:FALSE or missing)');
  let key: CryptoKey;
  try {
    key = await crypto.subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(ca.keyPem), KEY_ALG, false, ['sign']);
  } catch {
    // Never echo the key: say only what kind of key we expected.
    throw new Error('the CA private key is not a PKCS#8 ECDSA P-256 key');
  }
  return { cert, key };
}

async function issue(ca: CertKeyPair, subject: string, days: number, extensions: x509.Extension[]): Promise<CertKeyPair> {
  const issuer = await loadCA(ca);
  const keys = await newKeys();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject,
    issuer: issuer.cert.subject,
    ...validity(days),
    signingAlgorithm: SIGN_ALG,
    publicKey: keys.publicKey,
    signingKey: issuer.key,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      ...extensions,
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(issuer.cert.publicKey),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: await keyPem(keys.privateKey) };
}

/** A serving certificate: SANs are the DNS names plus 127.0.0.1 and ::1 (and any extra IPs). */
export async function issueServerCert(ca: CertKeyPair, opts: ServerCertOptions): Promise<CertKeyPair> {
  const dns = new Set<string>();
  const ips = new Set<string>(['127.0.0.1', '::1']);
  for (const n of [...(opts.dnsNames ?? []), ...(opts.ipAddresses ?? [])]) {
    if (isIP(n)) ips.add(n);
    else dns.add(n);
  }
  const names: x509.JsonGeneralName[] = [
    ...[...dns].map((value) => ({ type: 'dns' as const, value })),
    ...[...ips].map((value) => ({ type: 'ip' as const, value })),
  ];
  const eku = [x509.ExtendedKeyUsage.serverAuth as string];
  if (opts.clientAuth !== false) eku.push(x509.ExtendedKeyUsage.clientAuth);
  return issue(ca, `CN=${dnValue(opts.commonName)}`, opts.validityDays ?? 365, [
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
    new x509.ExtendedKeyUsageExtension(eku),
    new x509.SubjectAlternativeNameExtension(names),
  ]);
}

/** A client certificate: CN is the user, each O a group (Kubernetes' x509 authenticator reads them so). */
export async function issueClientCert(ca: CertKeyPair, opts: ClientCertOptions): Promise<CertKeyPair> {
  // An empty common name leaves CN out (etcd's grpc-proxy wants its upstream client certificate so).
  const subject = [...(opts.organizations ?? []).map((o) => `O=${dnValue(o)}`), ...(opts.commonName ? [`CN=${dnValue(opts.commonName)}`] : [])].join(', ');
  return issue(ca, subject, opts.validityDays ?? 365, [
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
  ]);
}

/** What a certificate says, for status output and expiry checks (no key material involved). */
export interface CertSummary {
  subject: string;
  issuer: string;
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
  subjectAltNames: string[];
  isCA: boolean;
}

export function describeCert(certPem: string): CertSummary {
  const c = new NodeX509(certPem);
  return {
    subject: c.subject.replace(/\n/g, ', '),
    issuer: c.issuer.replace(/\n/g, ', '),
    serialNumber: c.serialNumber,
    notBefore: new Date(c.validFrom),
    notAfter: new Date(c.validTo),
    subjectAltNames: c.subjectAltName ? c.subjectAltName.split(', ') : [],
    isCA: c.ca,
  };
}

/** True when `certPem` was signed by `caPem` (and the CA is a CA). */
export function verifyIssuedBy(certPem: string, caPem: string): boolean {
  const c = new NodeX509(certPem);
  const ca = new NodeX509(caPem);
  return ca.ca && c.checkIssued(ca) && c.verify(ca.publicKey);
}
