import type { Command } from 'commander';

/** The long-running processes `up` starts detached: not for people to run by hand. */
export function register(program: Command): void {
  program
    .command('agent', { hidden: true })
    .requiredOption('--home <dir>')
    .requiredOption('--host <host>')
    .action(async (flags: { home: string; host: string }) => {
      const { runAgent } = await import('../agent/main.js');
      await runAgent(flags.home, flags.host);
    });

  program
    .command('lb', { hidden: true })
    .requiredOption('--home <dir>')
    .action(async (flags: { home: string }) => {
      const { runBalancer } = await import('../lb/main.js');
      await runBalancer(flags.home);
    });
}
