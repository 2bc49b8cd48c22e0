#!/usr/bin/env node
// The `tessera` command: loads TypeScript through tsx (Tessera ships .ts sources) and runs cli/main.ts.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
