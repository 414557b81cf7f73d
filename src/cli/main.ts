import { Command, CommanderError } from 'commander';
import { UserError, errorMessage } from '../util/errors.js';
import { commandGroups } from './commands.js';
import { version } from '../version.js';

const program = new Command('etcd-ops')
  .description('Encrypt, back up, defragment and restore the etcd behind a Kubernetes-style control plane')
  .version(version)
  .showSuggestionAfterError(true)
  .exitOverride()
  .configureOutput({ outputError: (str, write) => write(str.startsWith('error:') ? `etcd-ops: ${str.slice(7)}` : str) });

for (const register of commandGroups) register(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  process.exitCode = exitCodeFor(err);
}

function exitCodeFor(err: unknown): number {
  if (err instanceof CommanderError) {
    // commander has printed its one-line message already; help and version exit 0.
    return err.exitCode;
  }
  if (err instanceof UserError) {
    process.stderr.write(`etcd-ops: ${err.message}\n`);
    return err.exitCode;
  }
  // A bug or an unexpected failure: say what happened; the stack only on request.
  process.stderr.write(`etcd-ops: ${errorMessage(err)}\n`);
  if (process.env.ETCD_OPS_DEBUG) process.stderr.write(`${(err as Error)?.stack ?? ''}\n`);
  else process.stderr.write('etcd-ops: set ETCD_OPS_DEBUG=1 for details\n');
  return 1;
}
