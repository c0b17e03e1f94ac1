import { expect, test } from 'bun:test';
import { SOURCE_FORMATS } from '../../config/config.ts';
import { FORMAT_NAMES } from './index.ts';

test('the formats --source accepts are exactly the registry formats', () => {
  expect([...SOURCE_FORMATS]).toEqual([...FORMAT_NAMES]);
});
