/**
 * `lenet-gpu/worker`: training in a dedicated Web Worker, so a long epoch
 * never holds the page's main thread. The worker file runs serveTrainer();
 * the page drives it with TrainerClient, whose models and data sets are
 * handles to the worker's. A page that imports only the client carries none
 * of the engine (sideEffects: false; the host is a separate module).
 */
export { serveTrainer, type ServeOptions } from './host.ts';
export { TrainerClient, RemoteDataset, RemoteModel, RemoteFit, type TrainerConnectOptions, type RemoteFitOptions } from './client.ts';
export type { DatasetInfo, ModelInfo, WorkerFitOptions, WorkerGpuOptions, WorkerLike, HostScope } from './protocol.ts';
