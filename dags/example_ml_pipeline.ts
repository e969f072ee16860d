/**
 * A weekly model training run. Each step is a function; small results
 * (row counts, metrics) travel between steps as XComs.
 *
 *   load_data -> preprocess -> train -> evaluate
 */
import { chain, DAG, FunctionOperator, type TaskContext } from 'airflow-ts';

const dag = new DAG({
  dagId: 'example_ml_pipeline',
  description: 'Train and evaluate a toy linear model every week',
  schedule: '@weekly',
  startDate: new Date('2024-01-01T00:00:00Z'),
  catchup: false,
  maxActiveRuns: 1,
  tags: ['example', 'ml'],
  defaultArgs: { owner: 'ml-team', retries: 1, retryDelay: { seconds: 30 } },
  params: { learningRate: 0.5, epochs: 500 },
});

interface Dataset {
  xs: number[];
  ys: number[];
}

const loadData = new FunctionOperator({
  dag,
  taskId: 'load_data',
  // y = 2x + 1 with a little noise; returned value becomes this task's XCom.
  fn: (): Dataset => {
    const xs = Array.from({ length: 20 }, (_, i) => i / 10);
    return { xs, ys: xs.map((x, i) => 2 * x + 1 + (i % 3 === 0 ? 0.05 : -0.05)) };
  },
});

const preprocess = new FunctionOperator({
  dag,
  taskId: 'preprocess',
  fn: async (ctx: TaskContext): Promise<Dataset> => {
    const data = (await ctx.ti.xcomPull({ taskIds: 'load_data' })) as Dataset;
    const max = Math.max(...data.xs);
    return { xs: data.xs.map((x) => x / max), ys: data.ys };
  },
});

const train = new FunctionOperator({
  dag,
  taskId: 'train',
  executionTimeout: { minutes: 10 },
  fn: async function train(ctx: TaskContext) {
    const { xs, ys } = (await ctx.ti.xcomPull({ taskIds: 'preprocess' })) as Dataset;
    const rate = Number(ctx.params.learningRate);
    let w = 0;
    let b = 0;
    for (let epoch = 0; epoch < Number(ctx.params.epochs); epoch++) {
      let dw = 0;
      let db = 0;
      xs.forEach((x, i) => {
        const err = w * x + b - (ys[i] ?? 0);
        dw += err * x;
        db += err;
      });
      w -= (rate * dw) / xs.length;
      b -= (rate * db) / xs.length;
    }
    return { w, b };
  },
});

const evaluate = new FunctionOperator({
  dag,
  taskId: 'evaluate',
  opKwargs: { maxMse: 0.05 },
  fn: async (ctx: TaskContext, kwargs) => {
    const [{ xs, ys }, { w, b }] = (await ctx.ti.xcomPull({ taskIds: ['preprocess', 'train'] })) as [Dataset, { w: number; b: number }];
    const mse = xs.reduce((sum, x, i) => sum + (w * x + b - (ys[i] ?? 0)) ** 2, 0) / xs.length;
    if (mse > Number(kwargs.maxMse)) throw new Error(`model too poor: mse ${mse.toFixed(3)} > ${String(kwargs.maxMse)}`);
    return { mse };
  },
});

chain(loadData, preprocess, train, evaluate);

export default dag;
