/**
 * Every error and warning code smile gives of its own, read from the syntax tree of src/ (not a list
 * kept by hand, with the TypeScript compiler and its type checker): `code: '…'` properties, `const code = …`, a `code`/`defaultCode` parameter's default
 * and every argument passed to a parameter of that name (`new RowError(reason, 'stray_quote')`,
 * `super(message, ExitCode.usage, 'usage')`). A string in a template (`http_${status}`) is kept with
 * its holes as `${…}`. Left out: the tables that explain codes themselves (src/smile/codes.ts,
 * src/selfie/finding-info.ts, src/commands/error-codes.ts), a selfie's read errors (selfie/inspect.ts: shown
 * as the findings they become), codes of digits only (Smile ID's own, which the emulator answers and
 * src/smile/codes.ts explains), Node's errno codes (ETIMEDOUT: only read by fileErrorReason and
 * describeNetworkError, never printed as a code), and strings that are no code: empty, with spaces,
 * or only holes (`${a}${b}`).
 */
import { readdirSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';
import { ExitCode } from '../../src/errors.js';

export const SRC = resolve(import.meta.dirname, '../../src');
const SKIPPED = [
  'smile/codes.ts',
  'selfie/finding-info.ts',
  'commands/error-codes.ts',
  // Read errors of a selfie (missing, directory …): rules.ts turns them into the findings unreadable and file_too_large.
  'selfie/inspect.ts',
];

/** The exit code of each error class of src/errors.ts, by class name. */
const CLASS_EXIT: Record<string, number> = {
  UsageError: 2,
  AuthError: 3,
  InputError: 4,
  ApiError: 5,
  RefusedError: 6,
  ExpectationError: 7,
  NotFinalError: 8,
  DeclinedError: 9,
  CancelledError: 130,
};

export interface CodeSite {
  /** The code, or a pattern with `${…}` for a template's holes. */
  code: string;
  /** `file:line` under src/. */
  where: string;
  /** The exit code of the error it is thrown with, when the site names its class (`new UsageError(…, { code })`). */
  exit?: number;
}

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return files(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

const rel = (path: string) => relative(SRC, path).split(sep).join('/');

/**
 * The strings an expression can be: literals, both arms of `?:`, both sides of `??`/`||`, templates
 * as patterns, and what the type checker knows of anything else (`verdict.reason`, typed as a union
 * of string literals); a plain `string` (`error.code`, passed on) gives nothing.
 */
function stringsOf(node: ts.Expression, checker: ts.TypeChecker): string[] {
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return [node.text];
  if (ts.isTemplateExpression(node))
    return [node.head.text + node.templateSpans.map((span) => `\${…}${span.literal.text}`).join('')];
  if (ts.isParenthesizedExpression(node) || ts.isAsExpression(node)) return stringsOf(node.expression, checker);
  if (ts.isConditionalExpression(node))
    return [...stringsOf(node.whenTrue, checker), ...stringsOf(node.whenFalse, checker)];
  if (
    ts.isBinaryExpression(node) &&
    (node.operatorToken.kind === ts.SyntaxKind.QuestionQuestionToken ||
      node.operatorToken.kind === ts.SyntaxKind.BarBarToken)
  )
    return [...stringsOf(node.left, checker), ...stringsOf(node.right, checker)];
  const type = checker.getTypeAtLocation(node);
  return (type.isUnion() ? type.types : [type]).flatMap((member) => (member.isStringLiteral() ? [member.value] : []));
}

const isCodeName = (name: string) => name === 'code' || name === 'defaultCode';

function calleeName(node: ts.CallExpression | ts.NewExpression): string | undefined {
  if (node.expression.kind === ts.SyntaxKind.SuperKeyword) return 'super';
  return ts.isIdentifier(node.expression) ? node.expression.text : undefined;
}

/** The class named by `new X(…)` around an object literal argument, if it is one of errors.ts. */
function thrownExit(literal: ts.Node): number | undefined {
  const parent = literal.parent;
  if (parent && ts.isNewExpression(parent)) {
    const name = calleeName(parent);
    return name === undefined ? undefined : CLASS_EXIT[name];
  }
  return undefined;
}

/** Every code site of src/, in file order. */
export function errorCodesInSource(): CodeSite[] {
  const config = ts.readConfigFile(join(SRC, '..', 'tsconfig.json'), ts.sys.readFile);
  const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, join(SRC, '..'));
  const program = ts.createProgram(files(SRC), { ...options, noEmit: true });
  const checker = program.getTypeChecker();
  const sources = program
    .getSourceFiles()
    .filter((source) => !rel(source.fileName).startsWith('..') && !SKIPPED.includes(rel(source.fileName)));
  // Pass 1: which position of which function or class takes a code (`problem(reason, code = …)`).
  const codeParameter = new Map<string, number>();
  const sites: CodeSite[] = [];
  const add = (source: ts.SourceFile, node: ts.Expression, exit?: number) => {
    const line = source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
    for (const code of stringsOf(node, checker))
      // All digits: Smile ID's own codes (the emulator answers them; src/smile/codes.ts explains them).
      if (/^[a-z0-9_]+$/.test(code.replaceAll('${…}', '')) && /[a-z]/.test(code.replaceAll('${…}', '')))
        sites.push({ code, where: `${rel(source.fileName)}:${line}`, ...(exit === undefined ? {} : { exit }) });
  };
  const noteParameters = (name: string | undefined, parameters: ts.NodeArray<ts.ParameterDeclaration>) => {
    parameters.forEach((parameter, index) => {
      if (name !== undefined && ts.isIdentifier(parameter.name) && isCodeName(parameter.name.text))
        codeParameter.set(name, index);
    });
  };
  for (const source of sources) {
    const visit = (node: ts.Node): void => {
      if (ts.isFunctionDeclaration(node)) noteParameters(node.name?.text, node.parameters);
      else if (ts.isConstructorDeclaration(node) && ts.isClassDeclaration(node.parent))
        noteParameters(node.parent.name?.text, node.parameters);
      else if (
        ts.isVariableDeclaration(node) &&
        ts.isIdentifier(node.name) &&
        node.initializer &&
        (ts.isArrowFunction(node.initializer) || ts.isFunctionExpression(node.initializer))
      )
        noteParameters(node.name.text, node.initializer.parameters);
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  // SmileCliError's subclasses pass their default code to `super` at its position.
  const base = codeParameter.get('SmileCliError');
  if (base !== undefined) codeParameter.set('super', base);
  // Pass 2: the codes.
  for (const source of sources) {
    const visit = (node: ts.Node): void => {
      if (ts.isPropertyAssignment(node) && ts.isIdentifier(node.name) && isCodeName(node.name.text))
        add(source, node.initializer, thrownExit(node.parent));
      else if (
        ts.isVariableDeclaration(node) &&
        ts.isIdentifier(node.name) &&
        node.name.text === 'code' &&
        node.initializer
      )
        add(source, node.initializer);
      else if (ts.isParameter(node) && ts.isIdentifier(node.name) && isCodeName(node.name.text) && node.initializer)
        add(source, node.initializer);
      else if (ts.isCallExpression(node) || ts.isNewExpression(node)) {
        const name = calleeName(node);
        const index = name === undefined ? undefined : codeParameter.get(name);
        const argument = index === undefined ? undefined : node.arguments?.[index];
        // `new SmileCliError(message, ExitCode.api, 'journal_write')` names its exit code.
        const exitArgument = name === 'SmileCliError' ? node.arguments?.[1] : undefined;
        const exit =
          exitArgument &&
          ts.isPropertyAccessExpression(exitArgument) &&
          exitArgument.expression.getText() === 'ExitCode'
            ? (ExitCode as Record<string, number>)[exitArgument.name.text]
            : undefined;
        if (argument) add(source, argument, exit);
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return sites;
}
