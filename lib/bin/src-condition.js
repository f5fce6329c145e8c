// Module resolve hook for lib/bin/launch.js: adds the "dramble-src" export condition, the
// in-process equivalent of `node --conditions=dramble-src`.
export async function resolve(specifier, context, next) {
  if (context.conditions.includes('dramble-src')) return next(specifier, context);
  return next(specifier, { ...context, conditions: [...context.conditions, 'dramble-src'] });
}
