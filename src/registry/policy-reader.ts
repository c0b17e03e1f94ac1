import { serviceNameProblem } from '../catalog/service-name.ts';
import { parseRoutePolicyValue } from '../catalog/route-policy.ts';
import type { Decoded, KeyReader } from './formats/format.ts';

/** Route policies live at `<prefix><service>` (default `/switchyard/routes/<service>`), one JSON document each. */
export const DEFAULT_ROUTES_PREFIX = '/switchyard/routes/';

const serviceOf = (prefix: string, key: string) => key.slice(prefix.length);

/**
 * Reads route policies. An invalid policy is rejected with reasons naming the field, and the catalog keeps
 * the last valid one in force; deleting the key returns the service to the default route.
 */
export const policyReader: KeyReader = {
  noun: 'route policy',
  read(prefix, entry): Decoded {
    const service = serviceOf(prefix, entry.key);
    if (service === '') return { kind: 'ignore' };
    const problem = serviceNameProblem(service);
    if (problem) return { kind: 'reject', reason: `expected ${prefix}<service>: ${problem}` };
    const parsed = parseRoutePolicyValue(entry.value);
    return parsed.ok ? { kind: 'policy', service, policy: parsed.value } : { kind: 'reject', reason: parsed.errors.join('; ') };
  },
  deleted(prefix, key, revision) {
    const service = serviceOf(prefix, key);
    return serviceNameProblem(service)
      ? { type: 'remove', key, revision }
      : { type: 'policy', key, service, policy: undefined, revision };
  },
};
