// Worker-thread entry: receives the shared bin matrix once, then grows the trees it is
// asked for (by index) and posts them back (typed arrays transferred, not copied).
import { parentPort, workerData } from 'node:worker_threads';
import { growTree, type BinnedData, type TreeParams } from './tree.js';

interface Init {
  rows: number;
  cols: number;
  bins: SharedArrayBuffer;
  y: SharedArrayBuffer;
  nBins: Int32Array;
  params: TreeParams;
  seed: number;
}

const init = workerData as Init;
const data: BinnedData = {
  rows: init.rows,
  cols: init.cols,
  // A private copy: V8 optimises loads from ordinary typed arrays better than from shared ones.
  bins: new Uint8Array(init.bins).slice(),
  y: new Uint8Array(init.y).slice(),
  nBins: init.nBins,
};

parentPort!.on('message', (msg: { tree: number }) => {
  try {
    const tree = growTree(data, init.params, init.seed, msg.tree);
    const transfer = [tree.feature, tree.bin, tree.left, tree.right, tree.value, tree.samples, tree.importance].map((a) => a.buffer as ArrayBuffer);
    parentPort!.postMessage({ tree: msg.tree, result: tree }, transfer);
  } catch (err) {
    parentPort!.postMessage({ tree: msg.tree, error: err instanceof Error ? err.stack ?? err.message : String(err) });
  }
});
