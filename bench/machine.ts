import os from 'node:os';
import { round } from './stats.ts';

/** Load average over 1, 5 and 15 minutes, as `uptime` shows it. */
export interface LoadAverage {
  readonly one: number;
  readonly five: number;
  readonly fifteen: number;
}

/** The machine a run measured, as the results record it. */
export interface Machine {
  readonly cpuModel: string;
  /** Logical cores the OS schedules on. */
  readonly cores: number;
  readonly memoryGiB: number;
  readonly os: string;
  readonly node: string;
}

/** The load average now. */
export function loadAverage(): LoadAverage {
  const [one = 0, five = 0, fifteen = 0] = os.loadavg();
  return { one: round(one), five: round(five), fifteen: round(fifteen) };
}

/** CPU model, cores, memory, OS and Node.js version of this machine. */
export function describeMachine(): Machine {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGiB: round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
  };
}
