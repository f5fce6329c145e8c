#!/usr/bin/env node
// Runs dist/main.js when built, else src/main.ts through tsx: works right after `npm install`.
import { launch } from '../../lib/bin/launch.js';

await launch(import.meta.url);
