import hljs from 'highlight.js/lib/core';
import typescript from 'highlight.js/lib/languages/typescript';
import { dagSourceByFileloc } from '../../../../db/models/dagCode.ts';
import { page, renderTimed } from '../../dagPageSupport.ts';
import type { UiPages } from '../../router.ts';
import { dagOr404 } from './dagHeader.ts';

hljs.registerLanguage('typescript', typescript);

/** The code tab: the DAG file's source as the DAG processor stored it, highlighted. */
export const codeTab: UiPages = (router, ctx) => {
  const { knex } = ctx;

  router.get(
    '/dags/:dagId/code',
    page(async (req, res, next) => {
      const started = process.hrtime.bigint();
      const loaded = await dagOr404(knex, req, res, 'Code');
      if (!loaded) return;
      const code = await dagSourceByFileloc(knex, loaded.row.fileloc);
      // highlight.js escapes every character of the source it does not wrap in its own <span class="hljs-…"> tags.
      const highlighted = code ? hljs.highlight(code.source_code, { language: 'typescript', ignoreIllegals: true }).value : null;
      const lineCount = code ? code.source_code.replace(/\n$/, '').split('\n').length : 0;
      renderTimed(res, next, 'dag/code', { ...loaded.locals, code, highlighted, lineCount }, started);
    }),
  );
};
