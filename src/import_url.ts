// import() of an ES module by URL, for code that loads modules at run time
// (the TUI's view; users' modules). The bundled CLI runs from V8's code
// cache (bin/kvmdbg.js), and in Node 20 code compiled from a cache has no
// import() of its own ("A dynamic import callback was not specified"): the
// launcher lends its import() under a global symbol, used here when present.
const KV = Symbol.for('kvmdbg');

export function import_url(url: string): Promise<unknown> {
  const lent = (globalThis as { [KV]?: { import: (url: string) => Promise<unknown> } })[KV];
  return lent ? lent.import(url) : import(url);
}
