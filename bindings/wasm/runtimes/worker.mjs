// The portable suite in workerd, as a test handler (`workerd test`): the package is
// bundled under the `workerd` condition, which imports the .wasm file as a module.
import * as sdk from 'affiliate-sdk';
import { run } from './suite.mjs';

export default {
  async test() {
    console.log(`workerd: ${run(sdk)} checks passed`);
  },
};
