import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { Kubelet } from '../src/agent/kubelet.js';
import { startAgentServer, type RunningAgentServer } from '../src/agent/server.js';
import { CHANNEL, V4, V5 } from '../src/agent/remotecommand.js';
import { hostPaths } from '../src/home/layout.js';
import { createCA, issueClientCert, issueServerCert, type CertKeyPair } from '../src/pki/index.js';
import { waitFor } from '../src/util/time.js';
import { tempDir } from './helpers/cleanup.js';

/**
 * The agent's kubelet API with a real Kubelet running a real pod: exec over the remote-command
 * WebSocket (v5 and v4), with and without a terminal, and container logs with their options.
 */
describe('agent server: exec and logs', { timeout: 60_000 }, () => {
  const home = tempDir('etcd-ops-agent-server-');
  const paths = hostPaths(home, 'master-0');
  const lines: string[] = [];
  const kubelet = new Kubelet('master-0', paths, (l) => lines.push(l));
  let server: RunningAgentServer;
  let ca: CertKeyPair;
  let client: CertKeyPair;
  let stranger: CertKeyPair;

  before(async () => {
    ca = await createCA();
    const serving = await issueServerCert(ca, { commonName: 'kubelet-master-0', dnsNames: ['localhost'] });
    client = await issueClientCert(ca, { commonName: 'kube-apiserver-kubelet-client' });
    stranger = await issueClientCert(await createCA(), { commonName: 'someone' });
    mkdirSync(paths.manifests, { recursive: true });
    // A pod with a default container that is not the first one, and a chatty one that restarts.
    writeFileSync(
      join(paths.manifests, 'demo-pod.yaml'),
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'demo', namespace: 'demo-ns', annotations: { 'kubectl.kubernetes.io/default-container': 'shell' } },
        spec: {
          containers: [
            { name: 'chatty', command: ['sh', '-c', 'i=0; while [ $i -lt 3 ]; do echo "line $i"; echo "warn $i" >&2; i=$((i+1)); done; sleep 0.3; exit 1'] },
            { name: 'shell', command: ['sleep', '1000'], env: [{ name: 'GREETING', value: 'hello from the container' }], workingDir: '/tmp' },
          ],
        },
      }),
    );
    kubelet.start();
    server = await startAgentServer({ bindAddress: '127.0.0.1', port: 0, cert: serving.certPem, key: serving.keyPem, clientCA: ca.certPem, kubelet, log: (l) => lines.push(l) });
    await waitFor('the pod to run', 20_000, () => (kubelet.findContainer('demo-ns', 'demo-master-0') as { runner?: unknown }).runner);
  });
  after(async () => {
    await server?.close();
    await kubelet.shutdown();
  });

  interface ExecResult {
    stdout: string;
    stderr: string;
    status: { status: string; reason?: string; details?: { causes: { reason: string; message: string }[] } };
    protocol: string;
  }

  /** `container?command=a&command=b&flag=true`, encoded as kubectl encodes it. */
  const q = (container: string, command: string[], flags: Record<string, string>) =>
    `${container}?${new URLSearchParams([...command.map((c): [string, string] => ['command', c]), ...Object.entries(flags)])}`;

  function exec(query: string, opts: { protocol?: string; input?: string[]; resize?: { Width: number; Height: number }; closeStdin?: boolean; cert?: CertKeyPair } = {}): Promise<ExecResult> {
    const cert = opts.cert ?? client;
    const ws = new WebSocket(`wss://127.0.0.1:${server.port}/exec/demo-ns/demo-master-0/${query}`, [opts.protocol ?? V5], { ca: ca.certPem, cert: cert.certPem, key: cert.keyPem });
    const out = { stdout: '', stderr: '', status: undefined as unknown as ExecResult['status'], protocol: '' };
    return new Promise((resolve, reject) => {
      ws.on('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d));
        res.on('end', () => reject(new Error(`${res.statusCode}: ${body.trim()}`)));
      });
      ws.on('error', reject);
      ws.on('open', () => {
        out.protocol = ws.protocol;
        if (opts.resize) ws.send(Buffer.concat([Buffer.from([CHANNEL.resize]), Buffer.from(JSON.stringify(opts.resize))]));
        for (const i of opts.input ?? []) ws.send(Buffer.concat([Buffer.from([CHANNEL.stdin]), Buffer.from(i)]));
        if (opts.closeStdin) ws.send(Buffer.from([CHANNEL.close, CHANNEL.stdin]));
      });
      ws.on('message', (m: Buffer) => {
        const data = m.subarray(1).toString('utf8');
        if (m[0] === CHANNEL.stdout) out.stdout += data;
        else if (m[0] === CHANNEL.stderr) out.stderr += data;
        else if (m[0] === CHANNEL.error) out.status = JSON.parse(data);
      });
      ws.on('close', () => resolve(out));
    });
  }

  it('runs a command in the default container\'s context and reports its exit code', async () => {
    const r = await exec(q('', ['sh', '-c', 'echo "$GREETING in $(pwd)"; echo oops >&2; exit 3'], { stdout: 'true', stderr: 'true' }));
    assert.equal(r.protocol, V5);
    assert.equal(r.stdout, 'hello from the container in /tmp\n');
    assert.equal(r.stderr, 'oops\n');
    assert.equal(r.status.status, 'Failure');
    assert.equal(r.status.reason, 'NonZeroExitCode');
    assert.deepEqual(r.status.details!.causes, [{ reason: 'ExitCode', message: '3' }]);
  });

  it('passes stdin through and ends it on the v5 close signal', async () => {
    const r = await exec('shell?command=wc&command=-c&stdin=true&stdout=true&stderr=true', { input: ['abc', 'de'], closeStdin: true });
    assert.equal(r.stdout.trim(), '5');
    assert.equal(r.status.status, 'Success');
  });

  it('speaks v4 to older clients', async () => {
    const r = await exec('shell?command=echo&command=v4&stdout=true', { protocol: V4 });
    assert.equal(r.protocol, V4);
    assert.equal(r.stdout, 'v4\n');
    assert.equal(r.status.status, 'Success');
  });

  it('gives a terminal that follows resizes', async () => {
    const r = await exec(q('shell', ['sh', '-c', 'sleep 0.3; stty size; tty'], { stdin: 'true', stdout: 'true', tty: 'true' }), { resize: { Width: 101, Height: 37 } });
    assert.match(r.stdout, /^37 101\r\n\/dev\/pts\/\d+\r\n$/);
    assert.equal(r.status.status, 'Success');
  });

  it('refuses what kube refuses, and callers without the cluster CA\'s certificate', async () => {
    await assert.rejects(exec('shell?command=true'), /400: you must specify at least 1 of stdin, stdout, stderr/);
    await assert.rejects(exec('shell?stdout=true'), /400: you must specify at least 1 command/);
    await assert.rejects(exec('shell?command=sh&stdout=true&stderr=true&tty=true'), /400: stderr and tty cannot both be true/);
    await assert.rejects(exec('nope?command=true&stdout=true'), /404: container nope is not valid for pod demo-master-0/);
    await assert.rejects(exec('shell?command=true&stdout=1', { protocol: 'channel.k8s.io' }), /400: none of the offered subprotocols/);
    await assert.rejects(exec('shell?command=true&stdout=true', { cert: stranger }), /401/);
    const r = await exec('shell?command=no-such-command-here&stdout=true');
    assert.equal(r.status.status, 'Failure');
    assert.match(JSON.stringify(r.status), /executable file not found in \$PATH/);
  });

  function logs(query: string, cert = client): Promise<{ code: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = request(`https://127.0.0.1:${server.port}/containerLogs/demo-ns/demo-master-0/${query}`, { ca: ca.certPem, cert: cert.certPem, key: cert.keyPem, servername: 'localhost' }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d));
        res.on('end', () => resolve({ code: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  it('serves logs per start: current, --previous, --tail, --timestamps, --since', async () => {
    await waitFor('the chatty container to restart twice', 20_000, async () => ((await logs('chatty?previous=true')).code === 200 ? true : undefined));
    const cur = await logs('chatty');
    assert.equal(cur.code, 200);
    const lines = cur.body.split('\n').filter(Boolean);
    assert.deepEqual(lines.filter((l) => l.startsWith('line')), ['line 0', 'line 1', 'line 2']);
    assert.deepEqual(lines.filter((l) => l.startsWith('warn')), ['warn 0', 'warn 1', 'warn 2']);
    const prev = await logs('chatty?previous=true');
    assert.equal(prev.body.split('\n').filter(Boolean).length, 6);
    const tail = await logs('chatty?tailLines=1');
    assert.equal(tail.body.split('\n').filter(Boolean).length, 1);
    const stamped = await logs('chatty?timestamps=true&tailLines=2');
    for (const l of stamped.body.split('\n').filter(Boolean)) assert.match(l, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z (line|warn) \d$/);
    const since = await logs('chatty?sinceTime=2999-01-01T00:00:00Z');
    assert.equal(since.body, '');
    assert.equal((await logs('chatty?tailLines=x')).code, 400);
    assert.equal((await logs('chatty', stranger)).code, 401);
    assert.match((await logs('shell?previous=true')).body, /previous terminated container "shell" in pod "demo-master-0" not found/);
  });

  it('follows a restarting container across its starts', async () => {
    const seen = await new Promise<string>((resolve, reject) => {
      let body = '';
      const req = request(`https://127.0.0.1:${server.port}/containerLogs/demo-ns/demo-master-0/chatty?follow=true&tailLines=0`, { ca: ca.certPem, cert: client.certPem, key: client.keyPem, servername: 'localhost' }, (res) => {
        res.on('data', (d: Buffer) => {
          body += d;
          // Two more starts' worth of lines: the follow went on past a restart.
          if ((body.match(/line 2/g) ?? []).length >= 2) {
            req.destroy();
            resolve(body);
          }
        });
      });
      req.on('error', (e) => (body ? undefined : reject(e)));
      req.end();
      setTimeout(() => {
        req.destroy();
        reject(new Error(`followed only: ${JSON.stringify(body)}`));
      }, 30_000).unref();
    });
    assert.ok((seen.match(/line 0/g) ?? []).length >= 2, seen);
  });
});
