/** One line per event worth knowing, klog-like. Callers never pass secrets, tokens or keys. */
export interface Logger {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

function line(level: string, msg: string): string {
  return `${level} ${new Date().toISOString()} apiserver: ${msg.replace(/\n/g, '\\n')}\n`;
}

export function createLogger(out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Logger {
  return {
    info: (m) => out.write(line('I', m)),
    warn: (m) => err.write(line('W', m)),
    error: (m) => err.write(line('E', m)),
  };
}
