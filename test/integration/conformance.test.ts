// Issue 3 "How we will know it works": one ADS conformance suite, run over both protocols against a real
// etcd and a real Switchyard with raw Envoy-like streams. The scenarios live in conformance.case.ts.
import { runConformance } from './conformance.case.ts';

runConformance({ protocol: 'sotw' });
runConformance({ protocol: 'delta' });
