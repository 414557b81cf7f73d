import { readFileSync } from 'node:fs';

export const projectRoot = new URL('..', import.meta.url).pathname.replace(/\/$/, '');
export const version: string = JSON.parse(readFileSync(`${projectRoot}/package.json`, 'utf8')).version;
/** The command that runs this CLI again, for processes we start (agents, static pods). */
export const selfCommand: string[] = [process.execPath, `${projectRoot}/bin/etcd-ops.js`];
