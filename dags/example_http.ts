/**
 * HTTP: wait until an API says the day's export is ready, then ask it to publish the export.
 *
 *   wait_for_export (HttpSensor) -> publish_export (HttpOperator)
 *
 * Needs an `http` connection `example_api`, e.g. host https://api.example.com, login and password for basic
 * auth, and extra {"X-Team": "data"} (every extra key is sent as a header). The password never reaches the log.
 */
import { DAG, HttpOperator, HttpSensor } from 'airflow-ts';

const dag = new DAG({
  dagId: 'example_http',
  description: 'Wait for an API to be ready, then call it',
  schedule: null,
  tags: ['example', 'http'],
});

const waitForExport = new HttpSensor({
  dag,
  taskId: 'wait_for_export',
  httpConnId: 'example_api',
  endpoint: 'exports/{{ ds }}',
  // A 404 means "not there yet"; once it answers, its state must be ready.
  responseCheck: (response) => (response.json() as { state?: string }).state === 'ready',
  mode: 'reschedule',
  pokeInterval: { seconds: 5 },
  timeout: { hours: 1 },
});

const publishExport = new HttpOperator({
  dag,
  taskId: 'publish_export',
  httpConnId: 'example_api',
  method: 'POST',
  endpoint: 'exports/{{ ds }}/publish',
  data: { day: '{{ ds }}', runId: '{{ run_id }}' },
  headers: { 'X-Request-Id': '{{ run_id }}' },
  responseCheck: (response) => response.status === 200,
  // The published URL becomes the task's XCom.
  responseFilter: (response) => (response.json() as { url: string }).url,
  retries: 3, // a 5xx fails the try; the retries call again
  retryDelay: { seconds: 10 },
});

waitForExport.then(publishExport);

export default dag;
