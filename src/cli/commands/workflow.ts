// `custos workflow …`: print the published definition schema and validate definition files
// (every problem with line and column). Runs locally: no installation or token is needed.
import type { Command } from 'commander';
import { CustosError } from '../../errors/index.ts';
import { checkWorkflowText, WORKFLOW_SCHEMA } from '../../engine/index.ts';
import { scrubSecrets } from '../../observe/index.ts';
import { printJson, print, readInputFile, type CliIo } from '../context.ts';

/**
 * Register the `workflow` command group and return it, so other commands (`workflow deploy`) can
 * be added to the same group.
 */
export function registerWorkflow(program: Command, io: CliIo): Command {
  const workflow = program
    .command('workflow')
    .description('workflow definitions: schema, validation, deployment');

  workflow
    .command('schema')
    .description('print the JSON Schema of workflow definitions')
    .action(() => {
      print(io, JSON.stringify(WORKFLOW_SCHEMA, null, 2));
    });

  workflow
    .command('validate')
    .description(
      'check a workflow definition (YAML or JSON; - reads standard input) and report every problem',
    )
    .argument('<file>', 'definition file (.yaml, .yml or .json)')
    .option('--json', 'print {"valid":true,…} on success; problems as RFC 9457 JSON on standard error')
    .action(async (file: string, opts: { json?: boolean }) => {
      const text = file === '-' ? await io.readStdin() : readInputFile(file, 'FILE');
      const filename = file === '-' ? 'stdin' : file;
      const result = checkWorkflowText(text, { filename });
      if (result.ok) {
        const d = result.definition;
        if (opts.json === true) {
          printJson(io, { valid: true, name: d.name, version: d.version, steps: d.steps.length });
        } else {
          print(io, `${filename}: valid (workflow ${d.name} ${d.version}, ${d.steps.length} steps)`);
        }
        return;
      }
      const first = result.problems[0] ?? { field: '/', rule: 'invalid' };
      if (opts.json === true) {
        throw new CustosError(
          'ENGINE_DEFINITION_INVALID',
          `${filename}: ${result.problems.length} problem(s)`,
          {
            details: { field: first.field || '/', rule: first.rule, problems: result.problems },
          },
        );
      }
      for (const p of result.problems) {
        const where = p.line === undefined ? filename : `${filename}:${p.line}:${p.column ?? 1}`;
        io.stderr.write(scrubSecrets(`${where}: ${p.field || '/'}: ${p.rule}\n`));
      }
      throw new CustosError(
        'ENGINE_DEFINITION_INVALID',
        `${filename}: ${result.problems.length} problem(s)`,
        {
          details: { field: first.field || '/', rule: first.rule },
        },
      );
    });
  return workflow;
}
