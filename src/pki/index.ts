/**
 * PKI for the control plane.
 *   createCA()                      -> {certPem, keyPem}
 *   issueServerCert(ca, {commonName, dnsNames, ipAddresses})  SANs always include 127.0.0.1 and ::1
 *   issueClientCert(ca, {commonName, organizations})          clientAuth EKU; O = Kubernetes groups
 *   writeCertKeyPair(dir, name, pair)  -> <name>.crt (0644), <name>.key (0600)
 *   describeCert(pem), verifyIssuedBy(certPem, caPem)
 */
export * from './pki.js';
export * from './files.js';
