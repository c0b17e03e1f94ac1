import { etcdNamingFormat } from './etcd-naming.ts';
import type { RegistrationFormat } from './format.ts';
import { goZeroFormat } from './go-zero.ts';
import { kitexFormat } from './kitex.ts';
import { kratosFormat } from './kratos.ts';
import { plainFormat } from './plain.ts';
import { rpcxFormat } from './rpcx.ts';

/** Format names as `--source <prefix>=<format>` takes them. */
export const FORMAT_NAMES = ['switchyard', 'etcd-naming', 'kratos', 'go-zero', 'kitex', 'rpcx'] as const;

export type FormatName = (typeof FORMAT_NAMES)[number];

/** Every registration format Switchyard reads, by name (etcd-notes §1). */
export const FORMATS: Readonly<Record<FormatName, RegistrationFormat>> = {
  switchyard: plainFormat,
  'etcd-naming': etcdNamingFormat,
  kratos: kratosFormat,
  'go-zero': goZeroFormat,
  kitex: kitexFormat,
  rpcx: rpcxFormat,
};

export const isFormatName = (name: string): name is FormatName => (FORMAT_NAMES as readonly string[]).includes(name);
