'use strict';
// Loads the compiled addon; throws a readable error if it was not built.
const path = require('node:path');
let addon;
for (const dir of ['Release', 'Debug']) {
  try {
    addon = require(path.join(__dirname, 'build', dir, 'peercred.node'));
    break;
  } catch (err) {
    if (err && err.code !== 'MODULE_NOT_FOUND') throw err;
  }
}
if (!addon) throw new Error('mcp-guard-peercred is not built: run `npx node-gyp rebuild` in native/peercred (needs python3, make and a C compiler)');
module.exports = addon;
