/**
 * The URL to start a worker thread from, for a module beside `from`
 * (`import.meta.url` of the caller) named `name` without its extension.
 * From source (tsx, vitest) the thread needs tsx's loader registered before
 * it can import TypeScript; compiled code runs the .js directly.
 */
export function workerThreadUrl(from: string, name: string): URL {
  if (!from.endsWith('.ts')) return new URL(`./${name}.js`, from);
  const tsx = import.meta.resolve('tsx/esm/api');
  const target = new URL(`./${name}.ts`, from).href;
  const boot = `import { register } from ${JSON.stringify(tsx)}; register(); await import(${JSON.stringify(target)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(boot)}`);
}
