/**
 * Adds a probe at the end of every loop body of an example, so the test can see memory after
 * each iteration. Done on the TypeScript syntax tree, so the example's own text stays as written.
 */
import ts from "typescript";

/** The global function the probes call: `(loop id, line of the loop) => void`. */
export const PROBE = "__tesseraDocLoop";

/** A loop the instrumented code reports on. */
export interface LoopSite {
  readonly id: number;
  /** 1-based line of the loop in the block. */
  readonly line: number;
  readonly text: string;
}

/** The block with a `PROBE(id)` call as the last statement of each loop body, and its loops. */
export function instrumentLoops(code: string): { code: string; loops: LoopSite[] } {
  const source = ts.createSourceFile("block.ts", code, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const loops: LoopSite[] = [];
  const transformer: ts.TransformerFactory<ts.SourceFile> = (context) => {
    const { factory } = context;
    const visit = (node: ts.Node): ts.Node => {
      const visited = ts.visitEachChild(node, visit, context);
      if (!ts.isIterationStatement(visited, false) || !ts.isIterationStatement(node, false)) return visited;
      const id = loops.length;
      const { line } = source.getLineAndCharacterOfPosition(node.getStart(source));
      loops.push({ id, line: line + 1, text: node.getText(source).split("\n")[0]!.trim() });
      const probe = factory.createExpressionStatement(
        factory.createCallExpression(factory.createIdentifier(PROBE), undefined, [factory.createNumericLiteral(id)]),
      );
      const body = visited.statement;
      const block = ts.isBlock(body) ? factory.updateBlock(body, [...body.statements, probe]) : factory.createBlock([body, probe], true);
      if (ts.isForOfStatement(visited)) return factory.updateForOfStatement(visited, visited.awaitModifier, visited.initializer, visited.expression, block);
      if (ts.isForInStatement(visited)) return factory.updateForInStatement(visited, visited.initializer, visited.expression, block);
      if (ts.isForStatement(visited)) return factory.updateForStatement(visited, visited.initializer, visited.condition, visited.incrementor, block);
      if (ts.isWhileStatement(visited)) return factory.updateWhileStatement(visited, visited.expression, block);
      if (ts.isDoStatement(visited)) return factory.updateDoStatement(visited, block, visited.expression);
      return visited;
    };
    return (file) => ts.visitNode(file, visit) as ts.SourceFile;
  };
  const result = ts.transform(source, [transformer]);
  const printed = ts.createPrinter().printFile(result.transformed[0]!);
  result.dispose();
  return { code: `declare function ${PROBE}(id: number): void;\n${printed}`, loops };
}
