/**
 * The page's training worker: the engine runs here, off the main thread
 * (src/worker/host.ts), driven by the page's TrainerClient. It is exactly the
 * file an app using `lenet-gpu/worker` writes.
 */
import { serveTrainer } from '../src/worker/index.ts';

serveTrainer();
