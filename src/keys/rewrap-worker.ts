// Worker thread entry for rewrap: shares the crypto of batches with the main thread, which reads and writes
// the store meanwhile and helps with the chunks left when it has to wait. Errors travel back as code,
// message and details only.
import { parentPort } from 'node:worker_threads';
import { CustosError } from '../errors/index.ts';
import { rewrapClaimed, sharedInput, type RewrapJob, type SharedBatch } from './rewrap-crypto.ts';

interface Request {
  readonly seq: number;
  readonly job: RewrapJob;
  readonly batch: SharedBatch;
}

parentPort?.on('message', (req: Request) => {
  try {
    rewrapClaimed({ ...req.job, wrapped: sharedInput(req.batch) }, req.batch);
    parentPort?.postMessage({ seq: req.seq });
  } catch (err) {
    const e = err instanceof CustosError ? err : new CustosError('INTERNAL', 'Rewrap worker failed');
    parentPort?.postMessage({
      seq: req.seq,
      error: { code: e.code, message: e.message, details: e.details },
    });
  }
});
