#!/usr/bin/env node
// The only place that sets the exit status: the CLI returns a code.
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
