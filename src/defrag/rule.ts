import jsep from 'jsep';

/** The numbers a defrag rule may use, per member (as etcd-defrag names them). */
export interface SpaceVars {
  dbSize: number;
  dbSizeInUse: number;
  dbSizeFree: number;
  dbQuota: number;
  dbQuotaUsage: number;
}

export const RULE_VARS: Array<keyof SpaceVars> = ['dbSize', 'dbSizeInUse', 'dbSizeFree', 'dbQuota', 'dbQuotaUsage'];

export class RuleError extends Error {}

export type Rule = (vars: SpaceVars) => boolean;

const BINARY: Record<string, (a: number, b: number) => number | boolean> = {
  '+': (a, b) => a + b,
  '-': (a, b) => a - b,
  '*': (a, b) => a * b,
  '/': (a, b) => a / b,
  '%': (a, b) => a % b,
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
  '==': (a, b) => a === b,
  '!=': (a, b) => a !== b,
};

type Node = jsep.Expression;
type Value = number | boolean;

/**
 * Compiles a rule like `dbQuotaUsage > 0.8 || dbSizeFree > 200*1024*1024` into a function.
 * jsep parses; we evaluate only numbers, the five variables, arithmetic, comparisons and
 * logic, so a rule can never run code. Every mistake is found here, before anything runs.
 */
export function compileRule(text: string): Rule {
  let ast: Node;
  try {
    ast = jsep(text);
  } catch (err) {
    throw new RuleError(`--rule "${text}" does not parse: ${(err as Error).message}`);
  }
  check(ast, text);
  const probe = evaluate(ast, { dbSize: 1, dbSizeInUse: 1, dbSizeFree: 0, dbQuota: 1, dbQuotaUsage: 1 });
  if (typeof probe !== 'boolean') throw new RuleError(`--rule "${text}" must be a condition (use <, >, ==, &&, ||), not a number`);
  return (vars) => evaluate(ast, vars) === true;
}

function check(node: Node, text: string): void {
  switch (node.type) {
    case 'Literal':
      if (typeof node.value !== 'number' && typeof node.value !== 'boolean') throw new RuleError(`--rule "${text}": only numbers and true/false are allowed, not ${node.raw}`);
      return;
    case 'Identifier':
      if (!RULE_VARS.includes(node.name as keyof SpaceVars)) {
        throw new RuleError(`--rule "${text}": unknown name "${node.name}"; use ${RULE_VARS.join(', ')}`);
      }
      return;
    case 'BinaryExpression':
      if (!(String(node.operator) in BINARY) && node.operator !== '&&' && node.operator !== '||') {
        throw new RuleError(`--rule "${text}": operator ${node.operator} is not allowed`);
      }
      check(node.left as Node, text);
      check(node.right as Node, text);
      return;
    case 'UnaryExpression':
      if (!['!', '-', '+'].includes(node.operator as string)) throw new RuleError(`--rule "${text}": operator ${node.operator} is not allowed`);
      check(node.argument as Node, text);
      return;
    default:
      throw new RuleError(`--rule "${text}": ${node.type} is not allowed; use numbers, ${RULE_VARS.join(', ')}, arithmetic, comparisons, && and ||`);
  }
}

function evaluate(node: Node, vars: SpaceVars): Value {
  switch (node.type) {
    case 'Literal':
      return node.value as Value;
    case 'Identifier':
      return vars[node.name as keyof SpaceVars];
    case 'UnaryExpression': {
      const v = evaluate(node.argument as Node, vars);
      return node.operator === '!' ? !v : node.operator === '-' ? -Number(v) : Number(v);
    }
    case 'BinaryExpression': {
      if (node.operator === '&&') return Boolean(evaluate(node.left as Node, vars)) && Boolean(evaluate(node.right as Node, vars));
      if (node.operator === '||') return Boolean(evaluate(node.left as Node, vars)) || Boolean(evaluate(node.right as Node, vars));
      return BINARY[node.operator as string](Number(evaluate(node.left as Node, vars)), Number(evaluate(node.right as Node, vars)));
    }
    default:
      throw new RuleError(`unexpected ${node.type}`);
  }
}
