#!/usr/bin/env node
// Runs the compiled service; `npm run build` produces dist/.
import '../dist/main.js';
