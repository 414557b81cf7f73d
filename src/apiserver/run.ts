/** The `etcd-ops apiserver` process: start, then stop cleanly on SIGTERM/SIGINT and exit 0. */
import { loadAPIServerConfig } from './config.js';
import { startAPIServer } from './server.js';
import { createLogger } from './log.js';

export async function runAPIServer(configPath: string): Promise<void> {
  const cfg = loadAPIServerConfig(configPath);
  const log = createLogger();
  const srv = await startAPIServer(cfg, log);
  await new Promise<void>((resolve) => {
    const stop = (sig: string) => {
      log.info(`received ${sig}`);
      const hard = setTimeout(() => process.exit(0), cfg.shutdownGraceMs + 5_000);
      hard.unref();
      void srv.close().finally(resolve);
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  // gRPC keeps timers alive for a while after close: leave now, the work is done.
  process.exit(0);
}
