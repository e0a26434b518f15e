#!/usr/bin/env node
import { main } from '../dist/cli/main.js';

// A reader that goes away (`tally … | head`) ends the command quietly.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

process.exitCode = await main(process.argv.slice(2));
