// ESLint (flat config): typescript-eslint's recommended rules over every source file, and the rule that
// keeps SQL in db/. Formatting belongs to Prettier; which folder may import which is dependency-cruiser's
// job (.dependency-cruiser.cjs). `npm run lint` runs all three. Syntax-only rules (no type information):
// the whole tree lints in seconds, and tsc --noEmit already checks the types.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

// sql-only-in-db: every query is built in db/ (named functions, hot statements one per file in db/queries/);
// routes, pages, services, the scheduler and the runner call those functions. These selectors catch a query
// being built on a knex instance: `knex('table')`, `trx('table')`, `db.knex('table')`, `knex.raw(…)`,
// `trx.select(…)`. (A knex instance passed along to a db/ function is fine.)
const SQL_MESSAGE = 'sql-only-in-db: this builds a query outside db/. Move the query into db/ and call it from here.';
const KNEX = '/^(knex|trx|tx|db)$/';
const SQL_OUTSIDE_DB = [
  { selector: `CallExpression[callee.type='Identifier'][callee.name=${KNEX}][arguments.0.type=/^(Literal|TemplateLiteral)$/]`, message: SQL_MESSAGE },
  { selector: `CallExpression[callee.type='MemberExpression'][callee.property.name=/^(knex|trx|tx)$/][arguments.0.type=/^(Literal|TemplateLiteral)$/]`, message: SQL_MESSAGE },
  { selector: `CallExpression[callee.type='MemberExpression'][callee.property.name='raw'][callee.object.name=${KNEX}]`, message: SQL_MESSAGE },
  { selector: `CallExpression[callee.type='MemberExpression'][callee.property.name='raw'][callee.object.property.name=/^(knex|trx|tx)$/]`, message: SQL_MESSAGE },
  {
    selector: `CallExpression[callee.type='MemberExpression'][callee.object.name=${KNEX}][callee.property.name=/^(select|insert|update|del|delete|from|into|table|with|queryBuilder|schema)$/]`,
    message: SQL_MESSAGE,
  },
];

export default tseslint.config(
  { ignores: ['node_modules/', 'test/fixtures/', 'bench/results/', 'test/.tmp/', 'test/artifacts/', 'bench/.tmp/', 'logs/', '.airflow-home/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: globals.node },
    rules: {
      // A leading underscore marks a parameter or binding kept for its position or to leave it out of a rest object.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
      // `any` stands where it is the honest type (routes with different zod schemas in one list, loose rows of
      // select *); tsc's strict mode checks everything else.
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  {
    files: ['**/*.ts'],
    ignores: ['db/**', 'test/**', 'bench/**'],
    rules: { 'no-restricted-syntax': ['error', ...SQL_OUTSIDE_DB] },
  },
  // The web UI's own scripts run in the browser.
  { files: ['webserver/ui/static/**/*.js'], languageOptions: { globals: globals.browser, sourceType: 'script' } },
);
