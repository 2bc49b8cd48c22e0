// Entry point of the browser test bundle (see scripts/browser-test.mjs). Runs the checks from
// ./checks.ts and publishes `window.__result` for the Node driver to collect.
import { runChecks, type Check } from './checks.ts';

export interface AdapterDescription {
  info: Record<string, unknown>;
  limits: Record<string, number>;
  features: string[];
  wgslLanguageFeatures: string[];
  userAgent: string;
}

export type BrowserTestResult = { checks: Check[]; adapter?: AdapterDescription } | { error: string };

declare global {
  interface Window {
    __result?: BrowserTestResult;
  }
}

async function describeAdapter(): Promise<AdapterDescription | undefined> {
  const adapter = await navigator.gpu?.requestAdapter();
  if (!adapter) return undefined;
  const info: Record<string, unknown> = {};
  // WebIDL attributes are enumerable accessors on the prototype, so for..in sees them.
  for (const key in adapter.info) {
    const value = (adapter.info as unknown as Record<string, unknown>)[key];
    if (typeof value !== 'function') info[key] = value;
  }
  const limits: Record<string, number> = {};
  for (const key in adapter.limits) {
    const value = (adapter.limits as unknown as Record<string, unknown>)[key];
    if (typeof value === 'number') limits[key] = value;
  }
  return {
    info,
    limits,
    features: [...adapter.features].sort(),
    wgslLanguageFeatures: [...(navigator.gpu.wgslLanguageFeatures ?? [])].sort(),
    userAgent: navigator.userAgent,
  };
}

async function main(): Promise<BrowserTestResult> {
  try {
    const checks = await runChecks();
    let adapter: AdapterDescription | undefined;
    try {
      adapter = await describeAdapter();
    } catch (e) {
      console.warn('describeAdapter failed:', e);
    }
    return { checks, adapter };
  } catch (e) {
    return { error: e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ''}` : String(e) };
  }
}

main().then((result) => {
  window.__result = result;
});
