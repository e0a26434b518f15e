/** The synthetic data generators: `tally demo` and the benchmarks' canonical events. */
export { type CanonicalOptions, writeCanonicalJsonl } from './canonical.js';
export {
  DEMO_DEFAULTS,
  type DemoFiles,
  type DemoFormat,
  type DemoOptions,
  generateDemo,
} from './generate.js';
