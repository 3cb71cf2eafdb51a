// The TUI's Ink view (app.tsx), imported only when the TUI starts: Ink and
// React cost some hundreds of milliseconds to load, which `run` and `repl`
// never pay. The bundle replaces this module (scripts/build.mjs): there the
// view is dist/cli/tui.mjs, imported through import_url().
export function load_view(): Promise<typeof import('./app.js')> {
  return import('./app.js');
}
