import { withClient, type Connection } from '../etcd/connection.js';
import { OPERATOR_PREFIX, parseOperatorObject, type OperatorState } from './operators.js';

/**
 * The operator objects under /kubernetes.io/operator.openshift.io/, read from etcd itself: the
 * check works when no API server answers. `endpoints` picks the members to ask (a backup asks
 * its own member).
 */
export async function readOperatorStates(conn: Connection, endpoints = conn.endpoints): Promise<OperatorState[]> {
  const res = await withClient(conn, endpoints, (c) => c.getAll().prefix(OPERATOR_PREFIX).exec());
  const states: OperatorState[] = [];
  for (const kv of res.kvs) {
    const s = parseOperatorObject(kv.key.toString('utf8'), kv.value);
    if (s) states.push(s);
  }
  return states;
}
