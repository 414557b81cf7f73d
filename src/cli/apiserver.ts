import type { Command } from 'commander';

/** `etcd-ops apiserver --config FILE`: the Kubernetes-style API server over etcd (hidden: the static pods run it). */
export function register(program: Command): void {
  program
    .command('apiserver', { hidden: true })
    .description('run the API server (Kubernetes REST API over etcd)')
    .requiredOption('--config <file>', 'APIServerConfig YAML file')
    .action(async (opts: { config: string }) => {
      const { runAPIServer } = await import('../apiserver/run.js');
      await runAPIServer(opts.config);
    });
}
