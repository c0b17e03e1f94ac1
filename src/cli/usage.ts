/**
 * Help text of the `switchyard` command.
 * @module
 */
import { defaults, envVars, type HelpTopic } from '../config/index.ts';

const general = `switchyard: serves service registrations from etcd as an xDS (ADS) control plane

Usage:
  switchyard serve [flags]       run the control plane
  switchyard bootstrap [flags]   print a gRPC xDS bootstrap JSON for a client
  switchyard help [command]      show this help, or a command's
  switchyard version             print the version

Run 'switchyard help serve' or 'switchyard help bootstrap' for flags.
`;

const serve = `Usage: switchyard serve [flags]

Watches etcd keys <prefix><service>/<host:port> and serves them over ADS. Without --etcd it starts a
private etcd (when an etcd binary is on PATH) or falls back to an in-process memory registry.

Flags (each also read from an environment variable; flags win):
  --etcd <url>[,<url>...]   ${envVars.etcd}   etcd client URLs, http(s)://host:port (default: private etcd)
  --etcd-username <name>    ${envVars.etcdUsername}
  --etcd-password <pass>    ${envVars.etcdPassword}
  --prefix <key prefix>     ${envVars.prefix}   default ${defaults.prefix}
  --xds-listen <host:port>  ${envVars.xdsListen}   default ${defaults.xdsListen}; port 0 picks a free port
  --envoy-listener <ip:port> ${envVars.envoyListener}   default ${defaults.envoyListener}; the outbound listener Envoy sidecars get
  --log-level <level>       ${envVars.logLevel}   debug, info, warn, error or silent (default ${defaults.logLevel})
  --demo                    ${envVars.demo}=1   start and register 3 greeter instances
  --data-dir <dir>          ${envVars.dataDir}   data directory of the private etcd (default: a temp dir, removed on exit)
`;

const bootstrap = `Usage: switchyard bootstrap [flags]

Prints a gRPC xDS bootstrap JSON pointing at a Switchyard server, e.g.
  export GRPC_XDS_BOOTSTRAP_CONFIG="$(switchyard bootstrap)"

Flags:
  --node-id <id>         default ${defaults.nodeIdPrefix}<hostname>
  --server <host:port>   default ${envVars.xdsListen} (wildcard hosts become loopback) or ${defaults.xdsListen}
  --cluster <name>       node.cluster
  --zone <zone>          node.locality.zone
  --region <region>      node.locality.region
`;

export function usage(topic: HelpTopic | undefined): string {
  return topic === 'serve' ? serve : topic === 'bootstrap' ? bootstrap : general;
}
