// #region readme-worker
// train-worker.ts: the engine runs here, off the page's main thread.
import { serveTrainer } from 'lenet-gpu/worker';

serveTrainer();
// #endregion readme-worker
