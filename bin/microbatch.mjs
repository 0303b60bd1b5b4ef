#!/usr/bin/env node
// The package's command line. The TypeScript sources are compiled to dist/ by `npm ci` / `npm install`
// (the "prepare" script); run `npm run build` after editing src/.
import { main } from '../dist/src/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
