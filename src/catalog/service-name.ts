const SERVICE_NAME = /^[a-z0-9](?:[a-z0-9._-]{0,251}[a-z0-9])?$/;

/**
 * Service names become xDS resource names, virtual-host domains and `xds:///<name>` targets, so they are
 * limited to lowercase DNS-like names (grpc-js matches domains case-sensitively, xds-notes §2.3).
 * Returns why a name is unusable, or undefined when it is fine.
 */
export function serviceNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'service name is empty';
  if (name.length > 253) return `service name is ${name.length} characters long; at most 253 are allowed`;
  if (!SERVICE_NAME.test(name)) {
    return `service name "${name}" may only contain lowercase letters, digits, '.', '-' and '_', starting and ending with a letter or digit`;
  }
  return undefined;
}

export const isValidServiceName = (name: string): boolean => serviceNameProblem(name) === undefined;
