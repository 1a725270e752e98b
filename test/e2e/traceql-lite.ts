// A small evaluator for the span-filter part of TraceQL (`{ ... }`), used by
// the end-to-end suite to run every dashboard query's filter over the spans a
// real backend returned. It understands what the dashboards use: intrinsics
// `name`, `status`, `statusMessage`, `trace:id`; `span.` and `resource.`
// attributes; = != =~ !~ > >= < <=; && || and parentheses; strings, numbers,
// true/false, nil, error/ok/unset. It is not Tempo: it checks that the queries
// name attributes and values the tracer really exports.

export interface EvalSpan {
  traceId: string;
  name: string;
  statusCode: "error" | "ok" | "unset";
  statusMessage: string;
  attributes: Record<string, unknown>;
  resource: Record<string, unknown>;
}

type Tok = { t: "str" | "num" | "id" | "op" | "lp" | "rp"; v: string };

function tokenize(s: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (/\s/.test(c)) { i++; continue; }
    if (c === '"') {
      let j = i + 1;
      let v = "";
      while (j < s.length && s[j] !== '"') { if (s[j] === "\\") j++; v += s[j++]; }
      out.push({ t: "str", v });
      i = j + 1;
      continue;
    }
    if (c === "(") { out.push({ t: "lp", v: c }); i++; continue; }
    if (c === ")") { out.push({ t: "rp", v: c }); i++; continue; }
    const op = /^(&&|\|\||=~|!~|!=|>=|<=|=|>|<)/.exec(s.slice(i));
    if (op) { out.push({ t: "op", v: op[1] }); i += op[1].length; continue; }
    const num = /^-?\d+(\.\d+)?/.exec(s.slice(i));
    if (num) { out.push({ t: "num", v: num[0] }); i += num[0].length; continue; }
    const id = /^[A-Za-z_][\w.:]*/.exec(s.slice(i));
    if (id) { out.push({ t: "id", v: id[0] }); i += id[0].length; continue; }
    throw new Error(`traceql-lite: cannot read '${s.slice(i, i + 20)}'`);
  }
  return out;
}

type Node = { and: Node[] } | { or: Node[] } | { cmp: [string, string, Tok] };

function parse(toks: Tok[]): Node {
  let i = 0;
  const expr = (): Node => {
    const parts = [term()];
    while (toks[i]?.v === "||") { i++; parts.push(term()); }
    return parts.length === 1 ? parts[0] : { or: parts };
  };
  const term = (): Node => {
    const parts = [factor()];
    while (toks[i]?.v === "&&") { i++; parts.push(factor()); }
    return parts.length === 1 ? parts[0] : { and: parts };
  };
  const factor = (): Node => {
    if (toks[i]?.t === "lp") {
      i++;
      const n = expr();
      if (toks[i]?.t !== "rp") throw new Error("traceql-lite: missing )");
      i++;
      return n;
    }
    const field = toks[i++];
    const op = toks[i++];
    const value = toks[i++];
    if (!field || field.t !== "id" || !op || op.t !== "op" || !value) throw new Error("traceql-lite: bad comparison");
    return { cmp: [field.v, op.v, value] };
  };
  const n = expr();
  if (i !== toks.length) throw new Error("traceql-lite: trailing tokens");
  return n;
}

function fieldValue(s: EvalSpan, f: string): unknown {
  if (f === "name") return s.name;
  if (f === "status") return s.statusCode;
  if (f === "statusMessage") return s.statusMessage;
  if (f === "trace:id") return s.traceId;
  if (f.startsWith("span.")) return s.attributes[f.slice(5)];
  if (f.startsWith("resource.")) return s.resource[f.slice(9)];
  if (f.startsWith(".")) return s.attributes[f.slice(1)] ?? s.resource[f.slice(1)];
  throw new Error(`traceql-lite: unsupported field ${f}`);
}

function evalNode(n: Node, s: EvalSpan): boolean {
  if ("and" in n) return n.and.every((x) => evalNode(x, s));
  if ("or" in n) return n.or.some((x) => evalNode(x, s));
  const [f, op, tok] = n.cmp;
  const v = fieldValue(s, f);
  if (tok.t === "id" && tok.v === "nil") return op === "!=" ? v !== undefined : v === undefined;
  if (v === undefined) return false;
  let want: unknown = tok.v;
  if (tok.t === "num") want = Number(tok.v);
  if (tok.t === "id") want = tok.v === "true" ? true : tok.v === "false" ? false : tok.v;
  switch (op) {
    case "=": return v === want || (typeof v === "number" && v === Number(want));
    case "!=": return v !== want;
    case "=~": return new RegExp(`^(?:${String(want)})$`).test(String(v));
    case "!~": return !new RegExp(`^(?:${String(want)})$`).test(String(v));
    case ">": return Number(v) > Number(want);
    case ">=": return Number(v) >= Number(want);
    case "<": return Number(v) < Number(want);
    case "<=": return Number(v) <= Number(want);
  }
  return false;
}

/** The spans a TraceQL query's first span filter selects. */
export function selectSpans(query: string, spans: EvalSpan[]): EvalSpan[] {
  const m = /\{([^}]*)\}/.exec(query);
  if (!m) throw new Error(`traceql-lite: no span filter in ${query}`);
  const body = m[1].trim();
  if (!body) return spans;
  const node = parse(tokenize(body));
  return spans.filter((s) => evalNode(node, s));
}
