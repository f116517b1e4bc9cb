// The one `${VAR}` expansion of config values, used by the loader and by locating. Anything that
// starts with `${` is an expansion or an error: a typo such as `${MY-VAR}` left literal would hand
// an upstream the text `${MY-VAR}` as its key, so it is refused with its position instead.
//
//   ${NAME}            the variable; an error when it is not set (set and empty gives '')
//   ${NAME:-default}   the variable, or `default` when it is unset or empty (as in the shell)
//   $${                a literal `${`
//
// NAME is letters, digits and `_`, not starting with a digit. A `$` not followed by `{` is plain text.

export interface ExpansionProblem {
  /** Index in the input where the offending `${` starts. */
  index: number;
  /** The offending text, from `${` to its `}` (or to the end when it has none). */
  text: string;
  message: string;
}

export interface Expanded {
  value: string;
  problems: ExpansionProblem[];
}

const FORM = /^([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/s;

export function expandVars(input: string, env: NodeJS.ProcessEnv = process.env): Expanded {
  const problems: ExpansionProblem[] = [];
  if (!input.includes('${')) return { value: input, problems };
  let out = '';
  let i = 0;
  for (;;) {
    const at = input.indexOf('${', i);
    if (at === -1) break;
    if (at > i && input[at - 1] === '$') {
      // `$${`: the escape. The `$` before it was copied already; drop it and keep `${` literal.
      out += input.slice(i, at - 1) + '${';
      i = at + 2;
      continue;
    }
    out += input.slice(i, at);
    const close = input.indexOf('}', at + 2);
    if (close === -1) {
      problems.push({ index: at, text: input.slice(at), message: `'${shown(input.slice(at))}' has no closing '}' (write $\${ for a literal \${)` });
      return { value: out + input.slice(at), problems };
    }
    const text = input.slice(at, close + 1);
    const body = input.slice(at + 2, close);
    i = close + 1;
    const m = FORM.exec(body);
    if (!m) {
      problems.push({ index: at, text, message: `'${shown(text)}' is not a valid expansion: use \${NAME} or \${NAME:-default}, NAME of letters, digits and _ (write $\${ for a literal \${)` });
      out += text;
      continue;
    }
    const [, name, dflt] = m as unknown as [string, string, string | undefined];
    if (dflt !== undefined && dflt.includes('${')) {
      problems.push({ index: at, text, message: `'${shown(text)}': a default cannot hold another \${…} (no nested expansion)` });
      out += text;
      continue;
    }
    const v = env[name];
    if (dflt !== undefined) out += v === undefined || v === '' ? dflt : v;
    else if (v !== undefined) out += v;
    else {
      problems.push({ index: at, text, message: `environment variable ${name} is not set (give a default with \${${name}:-default})` });
      out += text;
    }
  }
  return { value: out + input.slice(i), problems };
}

/**
 * The offending text as an error shows it: a default may be a credential (`${API-KEY:-sk-…}`),
 * and errors go to the terminal, `status` and the daemon log, so it is never shown.
 */
function shown(text: string): string {
  const d = text.indexOf(':-');
  if (d !== -1) return text.slice(0, d) + ':-…' + (text.endsWith('}') ? '}' : '');
  return text.length > 40 ? text.slice(0, 40) + '…' : text;
}
