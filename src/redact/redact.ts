// The one place that decides what is a secret. Every sink (span attributes and
// events, the summary, local trace files, the history store, the HTTP API and
// the tracer's own messages) passes its text through these functions.
//
// Secrets are recognised three ways:
//  1. by name: command-line flags and environment variables whose names say
//     they hold credentials (--api-key, --hf-token, HF_TOKEN, *_API_KEY,
//     *_SECRET*, *_TOKEN*, *PASSWORD*, OTEL_EXPORTER_OTLP_*HEADERS, ...);
//  2. by value: once a value is known to be secret, it is removed wherever it
//     appears later (e.g. vLLM echoing `api_key='...'` in its args line);
//  3. by shape: URL credentials, token query parameters, bearer tokens and
//     well-known token formats (hf_..., sk-..., ghp_..., AWS keys).

export const REDACTED = "[REDACTED]";

// Name segments (split on - _ .) that mark a credential: `--api-key`, `--hf-token`,
// `DB_PASSWORD`; not `--max-num-batched-tokens` or `--tokenizer`.
const SECRET_SEGMENTS = new Set(["key", "apikey", "token", "secret", "password", "passwd", "pwd", "credential",
  "credentials", "auth", "authorization", "signature", "headers", "cookie"]);
// Environment globs from the product's rule: *_API_KEY, *_SECRET*, *_TOKEN*.
const SECRET_ENV = /_API_KEY$|_SECRET|_TOKEN|PASSWORD|^HF_TOKEN$|^HUGGING_FACE_HUB_TOKEN$|^OTEL_EXPORTER_OTLP_(?:TRACES_)?HEADERS$/i;
type Replacement = string | ((match: string, ...groups: string[]) => string);
const SHAPES: [RegExp, Replacement][] = [
  [/\b(https?|wss?|grpcs?|s3|gs):\/\/[^\s/@:]*:[^\s/@]*@/gi, `$1://${REDACTED}@`],
  [/\b(https?|wss?):\/\/[^\s/@]+@/gi, `$1://${REDACTED}@`],
  [/([?&](?:token|access_token|api[_-]?key|key|sig|signature|secret|password|auth)=)[^&\s'"]+/gi, `$1${REDACTED}`],
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/g, `$1 ${REDACTED}`],
  [/\bhf_[A-Za-z0-9]{16,}\b/g, REDACTED],
  [/\bsk-[A-Za-z0-9_-]{16,}\b/g, REDACTED],
  [/\bgh[pousr]_[A-Za-z0-9]{20,}\b/g, REDACTED],
  [/\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/g, REDACTED],
  [/\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\b/g, REDACTED],
  // Python reprs of secret-named keys, e.g. vLLM's "non-default args: {'api_key': 'x'}",
  // and the list form newer versions print ("'api_key': ['x', 'y']", "api_key=['x']").
  [/(['"]?(?:api_keys?|hf_token|token|password|secret|access_token|auth_token|secret_key|access_key)['"]?\s*[:=]\s*)(['"])(?:(?!\2).)+\2/gi, `$1$2${REDACTED}$2`],
  [/(['"]?(?:api_keys?|hf_token|token|password|secret|access_token|auth_token|secret_key|access_key)['"]?\s*[:=]\s*)\[([^\]\n]*)\]/gi,
    (_m: string, key: string, list: string) => `${key}[${list.replace(/(['"])(?:(?!\1).)+\1/g, (q) => `${q[0]}${REDACTED}${q[0]}`)}]`],
];

const knownValues = new Set<string>();
let valueRegex: RegExp | null = null;

export function isSecretName(name: string): boolean {
  const n = name.replace(/^-+/, "");
  if (SECRET_ENV.test(n)) return true;
  for (const seg of n.toLowerCase().split(/[-_.]/)) if (SECRET_SEGMENTS.has(seg)) return true;
  return false;
}

/** Remembers a secret value so that it is removed wherever it shows up. */
export function addSecretValue(v: string | undefined): void {
  // Short, numeric or boolean values of secret-looking names (VLLM_MAX_TOKENS=2048)
  // are not credentials, and removing them everywhere would corrupt other text.
  if (!v || v.length < 6 || /^(?:[0-9.]+|true|false|yes|no|on|off)$/i.test(v)) return;
  if (knownValues.has(v)) return;
  knownValues.add(v);
  // Also the parts of a header list such as "Authorization=Bearer x,api-key=y".
  for (const part of v.split(/[,;]/)) {
    const eq = part.indexOf("=");
    const val = part.slice(eq + 1).trim();
    if (eq > 0 && val.length >= 6) knownValues.add(val);
  }
  const escaped = [...knownValues].sort((a, b) => b.length - a.length)
    .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  valueRegex = escaped.length ? new RegExp(escaped.join("|"), "g") : null;
}

/** Learns the secrets of an environment and a command line. */
export function learnSecrets(env: Record<string, string | undefined>, argv: readonly string[] = []): void {
  for (const [k, v] of Object.entries(env)) if (v && isSecretName(k)) addSecretValue(v);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith("-")) continue;
    const eq = a.indexOf("=");
    const name = eq > 0 ? a.slice(0, eq) : a;
    if (!isSecretName(name)) continue;
    if (eq > 0) addSecretValue(a.slice(eq + 1));
    else if (i + 1 < argv.length && !argv[i + 1].startsWith("--")) addSecretValue(argv[i + 1]);
  }
}

export function redactText(s: string): string {
  if (!s) return s;
  let out = s;
  if (valueRegex) out = out.replace(valueRegex, REDACTED);
  for (const [re, rep] of SHAPES) out = out.replace(re, rep as string);
  return out;
}

/** A command line with the values of secret flags replaced. */
export function redactArgs(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith("-")) {
      const eq = a.indexOf("=");
      const name = eq > 0 ? a.slice(0, eq) : a;
      if (isSecretName(name)) {
        if (eq > 0) out.push(`${name}=${REDACTED}`);
        else {
          out.push(a);
          if (i + 1 < argv.length && !argv[i + 1].startsWith("--")) {
            out.push(REDACTED);
            i++;
          }
        }
        continue;
      }
    }
    out.push(redactText(a));
  }
  return out;
}

/** Redacts every string (and string array element) of an attribute map. */
export function redactAttributes<T extends Record<string, unknown>>(attrs: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(attrs)) {
    if (isSecretName(k) && typeof v === "string") out[k] = REDACTED;
    else if (typeof v === "string") out[k] = redactText(v);
    else if (Array.isArray(v)) out[k] = v.map((x) => (typeof x === "string" ? redactText(x) : x));
    else out[k] = v;
  }
  return out as T;
}

/** Deep redaction for JSON documents (summary, API responses, history rows). */
export function redactDeep<T>(value: T): T {
  if (typeof value === "string") return redactText(value) as T;
  if (Array.isArray(value)) return value.map((v) => redactDeep(v)) as T;
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = isSecretName(k) && typeof v === "string" ? REDACTED : redactDeep(v);
    return out as T;
  }
  return value;
}

/** For tests: forget learned values. */
export function resetSecrets(): void {
  knownValues.clear();
  valueRegex = null;
}
