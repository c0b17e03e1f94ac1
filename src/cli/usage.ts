/**
 * Help text of the `switchyard` command.
 * @module
 */
import { defaults, envVars, registerDefaults, SOURCE_FORMATS, type HelpTopic } from '../config/index.ts';

const general = `switchyard: serves service registrations from etcd as an xDS (ADS) control plane

Usage:
  switchyard serve [flags]       run the control plane
  switchyard bootstrap [flags]   print a gRPC xDS bootstrap JSON for a client
  switchyard register [flags]    keep one service instance registered in etcd until SIGTERM
  switchyard help [command]      show this help, or a command's
  switchyard version             print the version

Run 'switchyard help serve', 'switchyard help bootstrap' or 'switchyard help register' for flags.
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
  --source <prefix>=<format> ${envVars.sources} (comma-separated)   also watch <prefix> in another framework's format
                            (repeatable; formats: ${SOURCE_FORMATS.join(', ')}), e.g. /microservices/=kratos
  --routes-prefix <prefix>  ${envVars.routesPrefix}   default ${defaults.routesPrefix}; route policies at <prefix><service>
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

const register = `Usage: switchyard register --etcd <url> --service <name> --address <ip:port> [flags]

Registers one instance of a service (for programs not written in TypeScript; those can use the SDK) and keeps it
registered: the key <prefix><service>/<ip:port> lives under a lease kept alive every TTL/3, and is put again under
a new lease if etcd loses it. On SIGTERM or SIGINT the instance is marked draining (clients stop sending it new
calls), stays so for the drain grace period, then its key is deleted and the lease revoked; exit status 0.

Flags (each also read from an environment variable; flags win):
  --etcd <url>[,<url>...]   ${envVars.etcd}   etcd client URLs, http(s)://host:port (required)
  --etcd-username <name>    ${envVars.etcdUsername}
  --etcd-password <pass>    ${envVars.etcdPassword}
  --service <name>          ${envVars.service}   lowercase letters, digits, '.', '-', '_' (required)
  --address <ip:port>       ${envVars.address}   what clients dial: an IP address, IPv6 in brackets (required)
  --prefix <key prefix>     ${envVars.prefix}   default ${defaults.prefix}
  --ttl <seconds>           ${envVars.ttl}   lease TTL: how long a killed process stays registered (default ${registerDefaults.ttlSeconds})
  --weight <1-1000000>      ${envVars.weight}   load-balancing weight (default 1)
  --region <name>           ${envVars.region}
  --zone <name>             ${envVars.zone}
  --sub-zone <name>         ${envVars.subZone}
  --priority <0-128>        ${envVars.priority}   failover priority, 0 preferred (default 0)
  --version <label>         ${envVars.instanceVersion}   version that route policies select on
  --tag <name=value>        ${envVars.tags} (a=1,b=2)   a label; repeat the flag for more
  --drain-grace-ms <ms>     ${envVars.drainGraceMs}   draining period before the key is deleted (default ${registerDefaults.drainGraceMs})
  --log-level <level>       ${envVars.logLevel}   debug, info, warn, error or silent (default ${defaults.logLevel})
`;

export function usage(topic: HelpTopic | undefined): string {
  return topic === 'serve' ? serve : topic === 'bootstrap' ? bootstrap : topic === 'register' ? register : general;
}
