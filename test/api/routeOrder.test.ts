import { expect, it } from 'vitest';
import { API_ROUTES } from '../../webserver/api/routes/index.ts';

// Express takes the first route that matches. A parameterised path listed before a path with a literal in the
// parameter's place (`.../{task_id}/{map_index}` before `.../{task_id}/xcomEntries`) makes the later route
// unreachable; this finds every such pair.
const isParam = (segment: string) => /^\{.+\}$/.test(segment);

/** Whether every request to `later` would be taken by `earlier`. */
function shadows(earlier: string, later: string): boolean {
  const a = earlier.split('/');
  const b = later.split('/');
  return a.length === b.length && a.every((segment, i) => isParam(segment) || segment === b[i]) && earlier !== later;
}

it('lists no route where an earlier one with the same method takes all its requests', () => {
  expect(API_ROUTES.length).toBeGreaterThan(40);
  const shadowed = API_ROUTES.flatMap((later, j) =>
    API_ROUTES.slice(0, j)
      .filter((earlier) => earlier.method === later.method && shadows(earlier.path, later.path))
      .map((earlier) => `${later.method.toUpperCase()} ${later.path} is taken by ${earlier.path}`),
  );
  expect(shadowed).toEqual([]);
});
