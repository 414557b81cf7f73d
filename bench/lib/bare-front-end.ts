/**
 * The least any HTTPS front end must do to create an encrypted Secret in etcd, and nothing else:
 * read the body, parse it, stamp uid and creationTimestamp, AES-CBC it in kube-apiserver's format,
 * put it with creates that arrive together in one etcd transaction, and answer 201 with the object.
 * No authentication, validation, per-object compare-and-swap, discovery or Status errors.
 *
 * bench/apiserver.ts runs it as a floor: what our API server's create throughput could reach at
 * best on this machine, measured in the same run as the raw etcd baseline.
 *
 *   node --import tsx bench/lib/bare-front-end.ts ETCD_URL CERT_FILE KEY_FILE   (forked; sends its port)
 */
import { createServer } from 'node:https';
import { createCipheriv, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Etcd3 } from 'etcd3';

const [etcdURL, certFile, keyFile] = process.argv.slice(2);
if (!etcdURL || !certFile || !keyFile || !process.send) {
  process.stderr.write('bare-front-end.ts: run by bench/apiserver.ts (fork) with ETCD_URL CERT_FILE KEY_FILE\n');
  process.exit(2);
}

const etcd = new Etcd3({ hosts: etcdURL });
const aesKey = randomBytes(32);
const PREFIX = Buffer.from('k8s:enc:aescbc:v1:k1:');

interface Pending {
  key: string;
  value: Buffer;
  done: (err?: Error) => void;
}
let pending: Pending[] = [];

async function flush(): Promise<void> {
  const batch = pending;
  pending = [];
  try {
    await etcd
      .if(batch[0]!.key, 'Create', '==', 0)
      .then(...batch.map((p) => etcd.put(p.key).value(p.value)))
      .commit();
    for (const p of batch) p.done();
  } catch (err) {
    for (const p of batch) p.done(err as Error);
  }
}

function groupPut(key: string, value: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    pending.push({ key, value, done: (err) => (err ? reject(err) : resolve()) });
    if (pending.length === 1) setImmediate(() => void flush());
  });
}

function encrypt(plain: Buffer): Buffer {
  const iv = randomBytes(16);
  const c = createCipheriv('aes-256-cbc', aesKey, iv);
  return Buffer.concat([PREFIX, iv, c.update(plain), c.final()]);
}

const server = createServer({ cert: readFileSync(certFile), key: readFileSync(keyFile) }, (req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const ns = /^\/api\/v1\/namespaces\/([^/]+)\/secrets$/.exec(req.url ?? '')?.[1];
    const obj = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    obj.metadata = { ...obj.metadata, namespace: ns, uid: randomUUID(), creationTimestamp: new Date().toISOString() };
    groupPut(`/kubernetes.io/secrets/${ns}/${obj.metadata.name}`, encrypt(Buffer.from(JSON.stringify(obj)))).then(
      () => {
        const out = Buffer.from(JSON.stringify(obj));
        res.writeHead(201, { 'Content-Type': 'application/json', 'Content-Length': out.length });
        res.end(out);
      },
      (err: Error) => {
        res.writeHead(500);
        res.end(err.message);
      },
    );
  });
});

server.listen(0, '127.0.0.1', () => {
  const addr = server.address();
  process.send!(typeof addr === 'object' && addr ? addr.port : 0);
});
process.on('SIGTERM', () => {
  server.close();
  etcd.close();
  process.exit(0);
});
