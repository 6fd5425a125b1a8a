// The portable suite on the package loaded by require() (Node 20.19 and later load the
// ES module synchronously: the package has no top-level await).
const sdk = require('affiliate-sdk');

import('./suite.mjs').then(({ run }) => {
  console.log(`Node ${process.version} (require): ${run(sdk)} checks passed`);
}).catch((e) => {
  console.error(e);
  process.exit(1);
});
