/**
 * Entry of the soak's consumer process, forked by soak/fleet.ts with its
 * configuration in the environment; see consumer-host.ts.
 */
import { readConsumerConfig, runConsumerProcess } from './consumer-host.ts';

runConsumerProcess(readConsumerConfig(process.env));
