// Schema check (not a cluster) of the Kubernetes manifests under deploy/ and of the Dockerfile.

import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import Ajv from "ajv";
import { parseAllDocuments } from "yaml";

const ROOT = resolve(import.meta.dir, "../..");

// --- A minimal JSON schema for the Deployment fields the manifests use -----------------------

const name = { type: "string", pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", maxLength: 63 };
const portRef = { oneOf: [{ type: "integer", minimum: 1, maximum: 65535 }, { type: "string", pattern: "^[a-z0-9-]{1,15}$" }] };
const probe = {
  type: "object",
  required: ["httpGet"],
  properties: {
    httpGet: {
      type: "object",
      required: ["path", "port"],
      properties: { path: { const: "/readyz" }, port: portRef, scheme: { enum: ["HTTP", "HTTPS"] } },
      additionalProperties: false,
    },
    initialDelaySeconds: { type: "integer", minimum: 0 },
    periodSeconds: { type: "integer", minimum: 1 },
    timeoutSeconds: { type: "integer", minimum: 1 },
    failureThreshold: { type: "integer", minimum: 1 },
    successThreshold: { type: "integer", minimum: 1 },
  },
  additionalProperties: false,
};
const envVar = {
  type: "object",
  required: ["name"],
  properties: {
    name: { type: "string", pattern: "^[A-Za-z_][A-Za-z0-9_]*$" },
    value: { type: "string" },
    valueFrom: { type: "object" },
  },
  oneOf: [{ required: ["value"] }, { required: ["valueFrom"] }],
  additionalProperties: false,
};
const volumeMount = {
  type: "object",
  required: ["name", "mountPath"],
  properties: { name, mountPath: { type: "string", pattern: "^/" }, readOnly: { type: "boolean" }, subPath: { type: "string" } },
  additionalProperties: false,
};
const containerCommon = {
  name,
  image: { type: "string", pattern: "^[^\\s:]+(:[A-Za-z0-9._-]+)?$" },
  imagePullPolicy: { enum: ["Always", "IfNotPresent", "Never"] },
  command: { type: "array", items: { type: "string" }, minItems: 1 },
  args: { type: "array", items: { type: "string" }, minItems: 1 },
  env: { type: "array", items: envVar },
  ports: {
    type: "array",
    minItems: 1,
    items: {
      type: "object",
      required: ["containerPort"],
      properties: {
        name: { type: "string", pattern: "^[a-z0-9-]{1,15}$" },
        containerPort: { type: "integer", minimum: 1, maximum: 65535 },
        protocol: { enum: ["TCP", "UDP", "SCTP"] },
      },
      additionalProperties: false,
    },
  },
  startupProbe: probe,
  readinessProbe: probe,
  livenessProbe: probe,
  resources: { type: "object" },
  securityContext: { type: "object" },
  volumeMounts: { type: "array", items: volumeMount },
};
const container = {
  type: "object",
  required: ["name", "image"],
  properties: containerCommon,
  additionalProperties: false,
};
export const deploymentSchema = {
  $id: "deployment",
  type: "object",
  required: ["apiVersion", "kind", "metadata", "spec"],
  properties: {
    apiVersion: { const: "apps/v1" },
    kind: { const: "Deployment" },
    metadata: {
      type: "object",
      required: ["name"],
      properties: { name, labels: { type: "object", additionalProperties: { type: "string" } } },
    },
    spec: {
      type: "object",
      required: ["selector", "template"],
      properties: {
        replicas: { type: "integer", minimum: 0 },
        selector: {
          type: "object",
          required: ["matchLabels"],
          properties: { matchLabels: { type: "object", minProperties: 1, additionalProperties: { type: "string" } } },
        },
        strategy: { type: "object", properties: { type: { enum: ["Recreate", "RollingUpdate"] } } },
        template: {
          type: "object",
          required: ["metadata", "spec"],
          properties: {
            metadata: {
              type: "object",
              required: ["labels"],
              properties: {
                labels: { type: "object", minProperties: 1, additionalProperties: { type: "string" } },
                annotations: { type: "object", additionalProperties: { type: "string" } },
              },
            },
            spec: {
              type: "object",
              required: ["containers"],
              properties: {
                shareProcessNamespace: { type: "boolean" },
                terminationGracePeriodSeconds: { type: "integer", minimum: 0 },
                initContainers: { type: "array", items: container },
                containers: { type: "array", minItems: 1, items: container },
                volumes: {
                  type: "array",
                  items: {
                    type: "object",
                    required: ["name"],
                    properties: { name },
                    minProperties: 2, // name + exactly one source
                    maxProperties: 2,
                  },
                },
              },
            },
          },
        },
      },
    },
  },
};

const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false });
const validateDeployment = ajv.compile(deploymentSchema);

// --- Helpers ---------------------------------------------------------------------------------

function loadDocs(rel: string): any[] {
  const text = readFileSync(join(ROOT, rel), "utf8");
  // Kubernetes reads manifests as YAML 1.1 (0440 is octal there).
  const docs = parseAllDocuments(text, { version: "1.1" });
  for (const d of docs) expect(d.errors, `${rel}: YAML errors`).toEqual([]);
  return docs.map((d) => d.toJS());
}

function deploymentOf(rel: string) {
  const docs = loadDocs(rel);
  const deps = docs.filter((d) => d.kind === "Deployment");
  expect(deps.length, `${rel}: exactly one Deployment`).toBe(1);
  const dep = deps[0];
  const ok = validateDeployment(dep);
  expect(ok ? [] : ajv.errorsText(validateDeployment.errors, { separator: "\n" }).split("\n")).toEqual([]);
  return { dep, docs };
}

/** Cross-field checks JSON schema cannot express. */
function consistencyProblems(dep: any, docs: any[]): string[] {
  const problems: string[] = [];
  const spec = dep.spec.template.spec;
  const all = [...(spec.initContainers ?? []), ...spec.containers];
  const volumes = new Map<string, any>((spec.volumes ?? []).map((v: any) => [v.name, v]));
  if (volumes.size !== (spec.volumes ?? []).length) problems.push("duplicate volume names");
  const mounted = new Set<string>();
  const names = new Set<string>();
  for (const c of all) {
    if (names.has(c.name)) problems.push(`duplicate container name ${c.name}`);
    names.add(c.name);
    const paths = new Set<string>();
    for (const m of c.volumeMounts ?? []) {
      if (!volumes.has(m.name)) problems.push(`${c.name}: volumeMount ${m.name} has no volume`);
      if (paths.has(m.mountPath)) problems.push(`${c.name}: two mounts at ${m.mountPath}`);
      paths.add(m.mountPath);
      mounted.add(m.name);
    }
    // Probes must target a port of a container in the pod (by name or number).
    const podPorts = spec.containers.flatMap((x: any) => x.ports ?? []);
    for (const kind of ["startupProbe", "readinessProbe", "livenessProbe"]) {
      const p = c[kind];
      if (!p) continue;
      const port = p.httpGet.port;
      const own = (c.ports ?? []).find((x: any) => x.name === port || x.containerPort === port);
      if (!own) problems.push(`${c.name}: ${kind} port ${port} is not one of its container ports`);
      if (!podPorts.some((x: any) => x.name === port || x.containerPort === port)) problems.push(`${c.name}: ${kind} port ${port} unknown`);
    }
    // $(VAR) references in env values must name an env var defined before them.
    const seen = new Set<string>();
    for (const e of c.env ?? []) {
      for (const m of (e.value ?? "").matchAll(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g)) {
        if (!seen.has(m[1]!)) problems.push(`${c.name}: env ${e.name} references $(${m[1]}) before it is defined`);
      }
      seen.add(e.name);
    }
  }
  for (const v of volumes.keys()) if (!mounted.has(v)) problems.push(`volume ${v} is never mounted`);
  // Selector matches the pod labels.
  const labels = dep.spec.template.metadata.labels;
  for (const [k, v] of Object.entries(dep.spec.selector.matchLabels)) {
    if (labels[k] !== v) problems.push(`selector ${k}=${v} does not match the pod labels`);
  }
  // Services select these pods and target existing ports.
  for (const svc of docs.filter((d) => d.kind === "Service")) {
    for (const [k, v] of Object.entries(svc.spec.selector ?? {})) if (labels[k] !== v) problems.push(`Service selector ${k}=${v} does not match`);
    const podPorts = spec.containers.flatMap((x: any) => x.ports ?? []);
    for (const p of svc.spec.ports ?? []) {
      const t = p.targetPort ?? p.port;
      if (!podPorts.some((x: any) => x.name === t || x.containerPort === t)) problems.push(`Service port ${p.name} targets unknown ${t}`);
    }
  }
  for (const d of docs) if (!["Deployment", "Service"].includes(d.kind)) problems.push(`unexpected kind ${d.kind}`);
  return problems;
}

/** The tracer's own flags from a container's command/args. */
function tracerArgv(c: any): string[] {
  return [...(c.command ?? []), ...(c.args ?? [])];
}

function flagValue(argv: string[], flag: string): string | undefined {
  const i = argv.indexOf(flag);
  return i >= 0 ? argv[i + 1] : undefined;
}

function checkListenAndAuth(c: any, argv: string[]) {
  const listen = flagValue(argv, "--listen");
  expect(listen, `${c.name}: --listen`).toMatch(/^0\.0\.0\.0:\d+$/);
  const port = Number(listen!.split(":")[1]);
  const tracerPort = c.ports.find((p: any) => p.containerPort === port);
  expect(tracerPort, `${c.name}: --listen port ${port} is a container port`).toBeTruthy();
  for (const kind of ["startupProbe", "readinessProbe"]) {
    const probePort = c[kind].httpGet.port;
    expect(probePort === tracerPort.name || probePort === port, `${c.name}: ${kind} targets the tracer port`).toBe(true);
    expect(c[kind].httpGet.path).toBe("/readyz");
  }
  // Listening on all interfaces needs an API token (from a Secret) or an explicit --insecure-listen.
  const tokenFile = flagValue(argv, "--api-token-file");
  if (!argv.includes("--insecure-listen")) {
    expect(tokenFile, `${c.name}: --api-token-file or --insecure-listen`).toBeTruthy();
    const mount = c.volumeMounts.find((m: any) => tokenFile!.startsWith(m.mountPath + "/"));
    expect(mount, `${c.name}: token file ${tokenFile} is on a mounted volume`).toBeTruthy();
    return mount.name as string;
  }
  return null;
}

function checkOtlp(c: any) {
  const env = new Map<string, any>((c.env ?? []).map((e: any) => [e.name, e]));
  expect(env.get("OTEL_EXPORTER_OTLP_ENDPOINT")?.value, `${c.name}: OTEL_EXPORTER_OTLP_ENDPOINT`).toMatch(/^https?:\/\/[^/]+:\d+$/);
  expect(env.get("OTEL_SERVICE_NAME")?.value).toBe("startup-tracer");
  expect(env.get("OTEL_RESOURCE_ATTRIBUTES")?.value).toContain("host.name=");
}

// --- Tests -----------------------------------------------------------------------------------

describe("the schema itself", () => {
  test("rejects a Deployment with a wrong probe path and a missing image", () => {
    const bad = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "x" },
      spec: {
        selector: { matchLabels: { a: "b" } },
        template: {
          metadata: { labels: { a: "b" } },
          spec: { containers: [{ name: "c", readinessProbe: { httpGet: { path: "/health", port: 1 } } }] },
        },
      },
    };
    expect(validateDeployment(bad)).toBe(false);
    const text = ajv.errorsText(validateDeployment.errors);
    expect(text).toContain("image");
    expect(text).toContain("readinessProbe/httpGet/path must be equal to constant");
  });

  test("the consistency check catches a dangling volumeMount and an unknown probe port", () => {
    const dep = {
      spec: {
        selector: { matchLabels: { a: "b" } },
        template: {
          metadata: { labels: { a: "b" } },
          spec: {
            containers: [{ name: "c", ports: [{ name: "tracer", containerPort: 9464 }], readinessProbe: { httpGet: { path: "/readyz", port: "metrics" } }, volumeMounts: [{ name: "logs", mountPath: "/logs" }] }],
            volumes: [],
          },
        },
      },
    };
    const p = consistencyProblems(dep, [dep]);
    expect(p.some((x) => x.includes("volumeMount logs has no volume"))).toBe(true);
    expect(p.some((x) => x.includes("readinessProbe port metrics"))).toBe(true);
  });
});

describe("deploy/wrapper/deployment.yaml", () => {
  const { dep, docs } = deploymentOf("deploy/wrapper/deployment.yaml");
  const spec = dep.spec.template.spec;

  test("structure is consistent", () => {
    expect(consistencyProblems(dep, docs)).toEqual([]);
  });

  test("the tracer is the vLLM container's entrypoint and runs `vllm serve` after --", () => {
    const c = spec.containers.find((x: any) => x.name === "vllm");
    expect(c).toBeTruthy();
    const argv = tracerArgv(c);
    expect(argv[0]).toMatch(/startup-tracer$/);
    const dd = argv.indexOf("--");
    expect(dd).toBeGreaterThan(0);
    expect(argv.slice(dd + 1, dd + 3)).toEqual(["vllm", "serve"]);
    const tokenVolume = checkListenAndAuth(c, argv.slice(0, dd));
    if (tokenVolume) expect(spec.volumes.find((v: any) => v.name === tokenVolume).secret?.secretName).toBeTruthy();
    checkOtlp(c);
    // The binary comes from an init container into a shared volume.
    const binDir = argv[0]!.slice(0, argv[0]!.lastIndexOf("/"));
    const binMount = c.volumeMounts.find((m: any) => m.mountPath === binDir);
    expect(binMount, "the tracer binary's directory is a mounted volume").toBeTruthy();
    const init = (spec.initContainers ?? []).find((ic: any) => ic.volumeMounts?.some((m: any) => m.name === binMount.name));
    expect(init, "an init container fills the binary volume").toBeTruthy();
    expect(init.command.join(" ")).toContain("startup-tracer");
    expect(c.resources?.limits?.["nvidia.com/gpu"]).toBeGreaterThan(0);
  });
});

describe("deploy/sidecar/deployment.yaml", () => {
  const { dep, docs } = deploymentOf("deploy/sidecar/deployment.yaml");
  const spec = dep.spec.template.spec;

  test("structure is consistent, process namespace shared", () => {
    expect(consistencyProblems(dep, docs)).toEqual([]);
    expect(spec.shareProcessNamespace).toBe(true);
    expect(spec.containers.length).toBe(2);
  });

  test("vLLM writes its log to the shared volume; the tracer follows it", () => {
    const vllm = spec.containers.find((x: any) => x.name === "vllm");
    const tracer = spec.containers.find((x: any) => x.name === "startup-tracer");
    expect(vllm && tracer).toBeTruthy();
    const script = tracerArgv(vllm).join(" ");
    expect(script).toContain("vllm serve");
    const teeMatch = script.match(/tee -a (\S+?)\)?(\s|$)/);
    expect(teeMatch, "vLLM output is tee'd to a file").toBeTruthy();
    const logFile = teeMatch![1]!;

    const argv = tracerArgv(tracer);
    expect(argv[0]).toBe("follow");
    expect(argv[1]).toBe(logFile);
    expect(flagValue(argv, "--process-name")).toBe("vllm");
    const tokenVolume = checkListenAndAuth(tracer, argv);
    if (tokenVolume) expect(spec.volumes.find((v: any) => v.name === tokenVolume).secret?.secretName).toBeTruthy();
    checkOtlp(tracer);

    // Both containers mount the same emptyDir at the log's directory.
    const logDir = logFile.slice(0, logFile.lastIndexOf("/"));
    const wMount = vllm.volumeMounts.find((m: any) => m.mountPath === logDir);
    const rMount = tracer.volumeMounts.find((m: any) => m.mountPath === logDir);
    expect(wMount && rMount).toBeTruthy();
    expect(wMount.name).toBe(rMount.name);
    expect(wMount.readOnly ?? false).toBe(false);
    expect(rMount.readOnly).toBe(true);
    expect(spec.volumes.find((v: any) => v.name === wMount.name).emptyDir).toBeTruthy();
    // The tracer sidecar runs unprivileged, the vLLM container has the GPU.
    expect(tracer.securityContext.runAsNonRoot).toBe(true);
    expect(tracer.securityContext.allowPrivilegeEscalation).toBe(false);
    expect(vllm.resources.limits["nvidia.com/gpu"]).toBeGreaterThan(0);
  });
});

describe("Dockerfile", () => {
  const text = readFileSync(join(ROOT, "Dockerfile"), "utf8");
  const lines = text
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));
  const instr = (l: string) => l.split(/\s+/)[0]!.toUpperCase();

  test("small base image, copies dist/startup-tracer, non-root USER, ENTRYPOINT the binary", () => {
    const froms = lines.filter((l) => instr(l) === "FROM");
    expect(froms.length).toBeGreaterThan(0);
    const finalBase = froms[froms.length - 1]!.split(/\s+/)[1]!;
    expect(finalBase).toMatch(/^(debian:[a-z]+-slim|gcr\.io\/distroless\/(cc|base)[^\s]*)$/);

    const copy = lines.find((l) => instr(l) === "COPY" && /\bdist\/startup-tracer\b/.test(l));
    expect(copy, "COPY dist/startup-tracer").toBeTruthy();
    const dest = copy!.split(/\s+/).pop()!;

    const users = lines.filter((l) => instr(l) === "USER");
    expect(users.length, "a USER instruction").toBeGreaterThan(0);
    const user = users[users.length - 1]!.split(/\s+/)[1]!;
    const [u, g] = user.split(":");
    expect(["root", "0"]).not.toContain(u);
    if (g !== undefined) expect(["root", "0"]).not.toContain(g);
    // USER comes after the last FROM (it applies to the final image).
    expect(lines.lastIndexOf(users[users.length - 1]!)).toBeGreaterThan(lines.lastIndexOf(froms[froms.length - 1]!));

    const ep = lines.filter((l) => instr(l) === "ENTRYPOINT").pop();
    expect(ep, "ENTRYPOINT").toBeTruthy();
    const epArgv = JSON.parse(ep!.slice("ENTRYPOINT".length).trim());
    expect(Array.isArray(epArgv)).toBe(true); // exec form: signals reach the tracer
    expect(epArgv[0] === dest || epArgv[0] === `${dest.replace(/\/$/, "")}/startup-tracer`).toBe(true);
    expect(lines.some((l) => instr(l) === "EXPOSE" && l.includes("9464"))).toBe(true);
  });

  test("the manifests use the binary path the image installs", () => {
    const copy = lines.find((l) => instr(l) === "COPY" && /\bdist\/startup-tracer\b/.test(l))!;
    const dest = copy.split(/\s+/).pop()!;
    const { dep } = deploymentOf("deploy/wrapper/deployment.yaml");
    const init = dep.spec.template.spec.initContainers[0];
    expect(init.command).toContain(dest);
  });
});
