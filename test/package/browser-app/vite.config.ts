// vite.config.ts: MNIST served and copied by the package's plugin; two pages.
import { defineConfig } from 'vite';
import { mnistFiles } from 'lenet-gpu/vite';

export default defineConfig({
  plugins: [mnistFiles()],
  build: { target: 'es2022', rolldownOptions: { input: { train: 'index.html', predict: 'predict.html' } } },
});
