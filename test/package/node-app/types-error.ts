// A deliberate type error: the type check of the installed declarations must report it (so it can fail).
import type { FitOptions } from 'lenet-gpu';

export const options: FitOptions = { epochs: '3' };
