/**
 * Params: values a run can override when triggered by hand (the UI builds a
 * form from their schema), used here in a templated Bash command.
 */
import { BashOperator, DAG, EmptyOperator, Param } from 'airflow-ts';

const dag = new DAG({
  dagId: 'example_params',
  description: 'Greets someone a configurable number of times',
  schedule: null, // manual runs only
  tags: ['example', 'params'],
  params: {
    greeting: new Param('Hello', { type: 'string', enum: ['Hello', 'Hi', 'Good morning'], description: 'How to greet' }),
    times: new Param(1, { type: 'integer', minimum: 1, maximum: 10, description: 'How many times to greet' }),
    name: 'world',
  },
  doc: 'Trigger with a config like `{"greeting": "Hi", "times": 3}`.',
});

const start = new EmptyOperator({ dag, taskId: 'start' });

const greet = new BashOperator({
  dag,
  taskId: 'greet',
  bashCommand: 'for i in $(seq {{ params.times }}); do echo "{{ params.greeting }}, {{ params.name }} on {{ ds }}"; done',
});

const shout = new BashOperator({
  dag,
  taskId: 'shout',
  bashCommand: 'echo "$MESSAGE" | tr a-z A-Z',
  env: { MESSAGE: '{{ params.greeting }} {{ params.name }}' },
  params: { name: 'everyone' }, // the task's params override the DAG's
});

start.then([greet, shout]);

export default dag;
