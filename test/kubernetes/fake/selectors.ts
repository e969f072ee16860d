/**
 * Label and field selectors with the API server's grammar and semantics
 * (k8s.io/apimachinery/pkg/labels and pkg/fields). A bad selector is a 400.
 */
import { badRequest } from './status.ts';
import type { PodJson } from './types.ts';
import { labelValue, qualifiedName } from './validation.ts';

type Labels = Record<string, string>;
export type Predicate<T> = (subject: T) => boolean;

interface Requirement {
  key: string;
  operator: '=' | '!=' | 'in' | 'notin' | 'exists' | '!' | 'gt' | 'lt';
  values: string[];
}

function matches(req: Requirement, labels: Labels): boolean {
  const has = Object.hasOwn(labels, req.key);
  const value = labels[req.key];
  switch (req.operator) {
    case '=':
    case 'in':
      return has && req.values.includes(value!);
    // As on a real cluster, `!=` and `notin` also select objects without the label.
    case '!=':
    case 'notin':
      return !has || !req.values.includes(value!);
    case 'exists':
      return has;
    case '!':
      return !has;
    case 'gt':
    case 'lt': {
      const n = Number(value);
      if (!has || !/^-?\d+$/.test(value!)) return false;
      return req.operator === 'gt' ? n > Number(req.values[0]) : n < Number(req.values[0]);
    }
  }
}

type Token = { kind: 'id'; text: string } | { kind: 'op'; text: string } | { kind: 'end'; text: 'end of string' };

const SPECIAL = '!=(),<>';

function tokenize(selector: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < selector.length) {
    const c = selector[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (SPECIAL.includes(c)) {
      const two = selector.slice(i, i + 2);
      const op = two === '!=' || two === '==' ? two : c;
      tokens.push({ kind: 'op', text: op === '==' ? '=' : op });
      i += op.length;
    } else {
      let j = i;
      while (j < selector.length && !SPECIAL.includes(selector[j]!) && !/\s/.test(selector[j]!)) j++;
      tokens.push({ kind: 'id', text: selector.slice(i, j) });
      i = j;
    }
  }
  tokens.push({ kind: 'end', text: 'end of string' });
  return tokens;
}

export function parseLabelSelector(selector: string): Predicate<Labels> {
  const tokens = tokenize(selector);
  let at = 0;
  const peek = () => tokens[at]!;
  const next = () => tokens[at++]!;
  const expect = (what: string, ok: (t: Token) => boolean): Token => {
    const token = next();
    if (!ok(token)) throw badRequest(`unable to parse requirement: found '${token.text}', expected: ${what}`);
    return token;
  };
  const identifier = (t: Token) => t.kind === 'id' && t.text !== 'in' && t.text !== 'notin';
  const checkKey = (key: string) => {
    const errors = qualifiedName(key);
    if (errors.length) throw badRequest(`unable to parse requirement: key: Invalid value: "${key}": ${errors.join('; ')}`);
  };
  const checkValue = (value: string) => {
    const errors = labelValue(value);
    if (errors.length) throw badRequest(`unable to parse requirement: values[0][${value}]: Invalid value: "${value}": ${errors.join('; ')}`);
  };

  const requirements: Requirement[] = [];
  if (peek().kind === 'end') return () => true; // the empty selector selects everything
  for (;;) {
    if (peek().text === '!' && peek().kind === 'op') {
      next();
      const key = expect('identifier', identifier).text;
      checkKey(key);
      requirements.push({ key, operator: '!', values: [] });
    } else {
      const key = expect('identifier', identifier).text;
      checkKey(key);
      const op = peek();
      if (op.kind === 'end' || op.text === ',') {
        requirements.push({ key, operator: 'exists', values: [] });
      } else if (op.text === '=' || op.text === '!=') {
        next();
        // `a=` selects an empty value.
        const value = identifier(peek()) ? next().text : '';
        checkValue(value);
        requirements.push({ key, operator: op.text, values: [value] });
      } else if (op.text === 'in' || op.text === 'notin') {
        next();
        expect("'('", (t) => t.text === '(' && t.kind === 'op');
        const values: string[] = [];
        for (;;) {
          const value = identifier(peek()) ? next().text : '';
          checkValue(value);
          values.push(value);
          const sep = expect("',' or ')'", (t) => t.kind === 'op' && (t.text === ',' || t.text === ')'));
          if (sep.text === ')') break;
        }
        requirements.push({ key, operator: op.text, values });
      } else if (op.text === '>' || op.text === '<') {
        next();
        const value = expect('integer', (t) => t.kind === 'id' && /^-?\d+$/.test(t.text)).text;
        requirements.push({ key, operator: op.text === '>' ? 'gt' : 'lt', values: [value] });
      } else {
        throw badRequest(`unable to parse requirement: found '${op.text}', expected: in, notin, =, ==, !=, gt, lt`);
      }
    }
    const sep = expect("',' or 'end of string'", (t) => t.kind === 'end' || (t.kind === 'op' && t.text === ','));
    if (sep.kind === 'end') break;
  }
  return (labels) => requirements.every((r) => matches(r, labels));
}

/** The field labels a real API server supports for pods. */
const POD_FIELDS: Record<string, (pod: PodJson) => string> = {
  'metadata.name': (p) => p.metadata.name,
  'metadata.namespace': (p) => p.metadata.namespace,
  'spec.nodeName': (p) => p.spec.nodeName ?? '',
  'spec.restartPolicy': (p) => p.spec.restartPolicy ?? '',
  'spec.schedulerName': (p) => String(p.spec.schedulerName ?? ''),
  'spec.serviceAccountName': (p) => String(p.spec.serviceAccountName ?? ''),
  'status.phase': (p) => p.status.phase,
  'status.podIP': (p) => p.status.podIP ?? '',
  'status.nominatedNodeName': (p) => String(p.status.nominatedNodeName ?? ''),
};

/** Splits on an unescaped separator; `\` escapes `,`, `=`, `!` and itself. */
function splitUnescaped(text: string, separator: ','): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\' && i + 1 < text.length) {
      current += c + text[++i];
    } else if (c === separator) {
      parts.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  parts.push(current);
  return parts;
}

const unescape = (text: string) => text.replace(/\\(.)/g, '$1');

export function parseFieldSelector(selector: string): Predicate<PodJson> {
  if (selector.trim() === '') return () => true;
  const terms = splitUnescaped(selector, ',').map((term) => {
    // The first unescaped operator splits field from value.
    const match = /^((?:[^\\!=]|\\.)*)(!=|==|=)(.*)$/.exec(term);
    if (!match) throw badRequest(`invalid selector: '${selector}'; can't understand '${term}'`);
    const field = unescape(match[1]!.trim());
    const value = unescape(match[3]!.trim());
    const read = POD_FIELDS[field];
    if (!read) throw badRequest(`field label not supported: ${field}`);
    const equal = match[2] !== '!=';
    return (pod: PodJson) => (read(pod) === value) === equal;
  });
  return (pod) => terms.every((term) => term(pod));
}
