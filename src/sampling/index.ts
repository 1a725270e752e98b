export { createSampler, type Sampler, type SamplerOptions, type BoundBy } from "./sampler.ts";
export { hostInventory } from "./inventory.ts";
export { boundBy, BOUND_BY_THRESHOLDS } from "./bound-by.ts";
export { A as SAMPLING_ATTRIBUTES } from "./attributes.ts";
