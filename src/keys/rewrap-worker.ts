// Worker thread entry for rewrap: runs the crypto of batches while the main thread reads and writes the store.
// Errors travel back as code, message and details only.
import { parentPort } from 'node:worker_threads';
import { CustosError } from '../errors/index.ts';
import { pack, rewrapJob, unpack, type PackedBoxes, type RewrapJob } from './rewrap-crypto.ts';

interface Request {
  readonly seq: number;
  readonly job: RewrapJob;
  readonly wrapped: PackedBoxes;
}

parentPort?.on('message', (req: Request) => {
  try {
    const out = rewrapJob({ ...req.job, wrapped: unpack(req.wrapped) });
    const wrapped = pack(out.wrapped);
    parentPort?.postMessage({ seq: req.seq, wrapped, versions: out.versions }, [
      wrapped.bytes.buffer,
      wrapped.ends.buffer,
    ]);
  } catch (err) {
    const e = err instanceof CustosError ? err : new CustosError('INTERNAL', 'Rewrap worker failed');
    parentPort?.postMessage({
      seq: req.seq,
      error: { code: e.code, message: e.message, details: e.details },
    });
  }
});
