// Module loading hook for tests/js/row.mjs: esp-web-flasher publishes its browser build
// (dist/web, ES modules) in a package that does not say "type": "module", so Node would
// read it as CommonJS. Tell Node what the files are; nothing else is changed.
const BROWSER_BUILD = "/node_modules/esp-web-flasher/dist/web/";

export async function load(url, context, nextLoad) {
  if (url.startsWith("file:") && url.includes(BROWSER_BUILD))
    return nextLoad(url, { ...context, format: "module" });
  return nextLoad(url, context);
}
