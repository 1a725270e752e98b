// C sources imported as text (`with { type: "text" }`), compiled at run time by bun:ffi cc.
declare module "*.c" {
  const source: string;
  export default source;
}

// Recorded logs imported as text (the demo's, built into the binary).
declare module "*.log" {
  const text: string;
  export default text;
}
