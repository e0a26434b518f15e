import path from 'node:path';
import { initConfig } from '../../config/example.js';
import { parse } from '../args.js';

export async function initCommand(argv: string[]): Promise<number> {
  const { positionals } = parse('init', argv, {});
  const file = await initConfig(path.resolve(positionals[0] ?? '.'));
  process.stdout.write(`wrote ${file}\n`);
  return 0;
}
