// Runs a workspace's entry point for its bin: the compiled dist/main.js when a build is current,
// else the TypeScript sources in this same process through tsx, so that `npx dramble …` and the
// service bins work right after `npm install` on a fresh clone, before any `npm run build`.
//
// Why a fallback rather than a `prepare` build (measured 2026-12-04 on the shared 2-core dev box,
// load average ~17): `prepare` would add a full `tsc -b tsconfig.build.json` (110 s there, 580 MB
// peak) to every `npm install`/`npm ci`, and a type error on a branch would make `npm install`
// itself fail. The fallback costs each start about 2 s more (`dramble --help`: 3.8 s from the
// sources, 2.0 s from dist/; tsx caches what it compiled), which only dev checkouts pay: images
// never reach this file, their CMD runs dist/main.js directly. The choice is the rule `dramble up`
// uses for the services (cli/src/services.ts): sources unless dist/ is newer than src/main.ts.
import { existsSync, statSync } from 'node:fs';
import { register } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** `binUrl` is the calling bin's import.meta.url; its workspace is the folder above bin/. */
export async function launch(binUrl) {
  const dist = fileURLToPath(new URL('../dist/main.js', binUrl));
  const src = fileURLToPath(new URL('../src/main.ts', binUrl));
  const distCurrent = existsSync(dist) && (!existsSync(src) || statSync(dist).mtimeMs > statSync(src).mtimeMs);
  if (distCurrent) return import(pathToFileURL(dist).href);
  let tsx;
  try {
    tsx = await import('tsx/esm/api');
  } catch {
    process.stderr.write(`${dist} is missing and tsx (a dev dependency) is not installed to run the sources: run \`npm install\` or \`npm run build\`\n`);
    process.exit(1);
  }
  tsx.register();
  // Registered after tsx so it runs first: workspaces then resolve each other (@dramble/lib) to
  // their src/ through the same "dramble-src" export condition that `npm start` passes with --conditions.
  register('./src-condition.js', import.meta.url);
  return import(pathToFileURL(src).href);
}
