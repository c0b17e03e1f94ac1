import { describe, expect, test } from 'bun:test';
import { messageType, protoRoot } from '../proto.ts';
import { unsupportedRules } from './index.ts';
import { fieldRules, oneofRequired } from './rule-options.ts';

// Pins down how protobufjs 7 represents PGV options, which rule-options.ts relies on.
describe('protobufjs option representation', () => {
  test('a plain rule, flattened and parsed', () => {
    const f = messageType('envoy.config.cluster.v3.Cluster').fields.name!;
    expect(f.options).toEqual({ '(validate.rules).string.min_len': 1 });
    expect(fieldRules(f)).toEqual({ string: { min_len: 1 } });
  });

  test('an empty message value (`duration.gt = {}`) exists only in parsedOptions', () => {
    const f = messageType('envoy.config.cluster.v3.OutlierDetection').fields.interval!;
    expect(f.options).toBeUndefined();
    expect(fieldRules(f)).toEqual({ duration: { gt: {} } });
  });

  test('a repeated value keeps all elements only in parsedOptions', () => {
    const f = messageType('envoy.config.accesslog.v3.ResponseFlagFilter').fields.flags!;
    expect(f.options!['(validate.rules).repeated.items.string.in']).toBe('DR');
    const items = (fieldRules(f) as { repeated: { items: { string: { in: string[] } } } }).repeated.items.string.in;
    expect(items.length).toBeGreaterThan(20);
    expect(items).toContain('UH');
  });

  test('a repeated value written once is a bare scalar', () => {
    const f = messageType('envoy.config.core.v3.HealthCheck.HttpHealthCheck').fields.method!;
    expect(fieldRules(f)).toEqual({ enum: { defined_only: true, not_in: 6 } });
  });

  test('oneof (validate.required)', () => {
    const t = messageType('envoy.config.route.v3.RouteAction');
    expect(oneofRequired(t.oneofs.cluster_specifier!)).toBe(true);
    expect(oneofRequired(t.oneofs.host_rewrite_specifier!)).toBe(false);
  });
});

test('every rule on every Envoy message Switchyard loads is understood, but one Envoy authoring slip', () => {
  // ExtensionConfigSource.config_source is a ConfigSource message annotated with `any` rules; it is
  // not an Any, so the rule is ignored (Switchyard never sets ExtensionConfigSource).
  expect(unsupportedRules(protoRoot())).toEqual([
    {
      type: 'envoy.config.core.v3.ExtensionConfigSource',
      field: 'config_source',
      rule: 'any',
      reason: 'any rules on a message envoy.config.core.v3.ConfigSource value',
    },
  ]);
});
