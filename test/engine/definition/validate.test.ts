import { describe, expect, it } from 'vitest';
import { isCustosError, type ErrorProblem } from '../../../src/errors/index.ts';
import {
  checkWorkflow,
  validateWorkflow,
  type WorkflowDefinition,
} from '../../../src/engine/definition/index.ts';
import { onboarding, workflowWith } from '../steps/fakes.ts';

type Options = Parameters<typeof checkWorkflow>[1];

function problems(
  steps: readonly unknown[],
  extra: Record<string, unknown> = {},
  options?: Options,
): ErrorProblem[] {
  const result = checkWorkflow(workflowWith(steps, extra), options);
  return result.ok ? [] : [...result.problems];
}

function rules(steps: readonly unknown[], extra: Record<string, unknown> = {}, options?: Options): string[] {
  return problems(steps, extra, options).map((p) => `${p.field} ${p.rule}`);
}

const t = (id: string, expression = '1', more: Record<string, unknown> = {}) => ({
  id,
  kind: 'transform',
  expression,
  ...more,
});

describe('validateWorkflow: ids and the step graph', () => {
  it('accepts the full example', () => {
    expect(checkWorkflow(onboarding()).ok).toBe(true);
  });

  it('rejects duplicate step ids and the reserved id end', () => {
    expect(rules([t('a'), t('a'), t('end')])).toEqual(
      expect.arrayContaining(["/steps/1/id duplicate step id 'a'", "/steps/2/id 'end' is reserved"]),
    );
  });

  it('rejects successors that name undeclared steps', () => {
    expect(rules([t('a', '1', { next: 'ghost' })])).toContain("/steps/0/next undeclared step 'ghost'");
    expect(
      rules([{ id: 'b', kind: 'branch', cases: [{ when: 'true', next: 'nowhere' }], default: 'end' }]),
    ).toContain("/steps/0/cases/0/next undeclared step 'nowhere'");
  });

  it('rejects cycles in the branch graph', () => {
    const r = rules([
      t('a'),
      { id: 'b', kind: 'branch', cases: [{ when: 'input.amount > 1', next: 'a' }], default: 'end' },
    ]);
    expect(r.some((x) => x.includes('cycle in the step graph: a → b → a'))).toBe(true);
  });

  it('rejects a step that follows itself', () => {
    expect(rules([t('a', '1', { next: 'a' })])).toContain('/steps/0/next a step cannot follow itself');
  });

  it('rejects unreachable steps', () => {
    expect(rules([t('a', '1', { next: 'end' }), t('b')])).toContain("/steps/1 step 'b' is unreachable");
  });

  it('names the problem without echoing unsafe values', () => {
    const r = rules([t('a', '1', { next: 'x' }), { id: 'b', kind: 'subflow', workflow: 'test-flow' }]);
    expect(r).toContain('/steps/1/workflow subflow cycle: test-flow → test-flow');
  });
});

describe('validateWorkflow: expression references', () => {
  it('accepts references to earlier steps, declared fields and run facts', () => {
    expect(
      rules([
        t('a', 'input.plan'),
        t('b', 'steps.a.output'),
        {
          id: 'c',
          kind: 'http',
          connector: 'crm',
          method: 'POST',
          path: '/x/{{ steps.b.output.id }}',
          body: { run: '{{ run.id }}', email: '{{ input.email }}' },
        },
      ]),
    ).toEqual([]);
  });

  it('rejects expressions naming undeclared steps', () => {
    expect(rules([t('a', 'steps.ghost.output')])).toContain("/steps/0/expression undeclared step 'ghost'");
    expect(
      rules([{ id: 'a', kind: 'approval', approvers: ['x'], message: 'see {{ steps.ghost.output.v }}' }]),
    ).toContain("/steps/0/message undeclared step 'ghost'");
  });

  it('rejects forward references, self references and references across branches', () => {
    expect(rules([t('a', 'steps.b.output'), t('b')])).toContain(
      "/steps/0/expression forward reference to step 'b', which runs later",
    );
    expect(rules([t('a', 'steps.a.output')])).toContain(
      "/steps/0/expression a step cannot read its own output ('a')",
    );
    const r = rules([
      { id: 'pick', kind: 'branch', cases: [{ when: 'input.amount > 5', next: 'left' }], default: 'right' },
      t('left', '1', { next: 'end' }),
      t('right', 'steps.left.output'),
    ]);
    expect(r).toContain("/steps/2/expression step 'left' does not run before this step on any path");
  });

  it('rejects undeclared secrets and secrets outside http header values', () => {
    const http = (more: Record<string, unknown>) => ({
      id: 'h',
      kind: 'http',
      connector: 'crm',
      method: 'GET',
      path: '/x',
      ...more,
    });
    expect(rules([http({ headers: { 'X-Tenant': '{{ secrets.TENANT }}' } })])).toEqual([]);
    expect(rules([http({ headers: { 'X-Other': '{{ secrets.NOPE }}' } })])).toContain(
      "/steps/0/headers/X-Other undeclared secret 'NOPE' (declare it under secrets)",
    );
    expect(rules([http({ body: { t: '{{ secrets.TENANT }}' } })])).toContain(
      '/steps/0/body/t secrets may only appear in http header values',
    );
    expect(rules([http({ path: '/x/{{ secrets.TENANT }}' })])).toContain(
      '/steps/0/path secrets may only appear in http header values',
    );
    expect(rules([t('a', 'secrets.TENANT')])).toContain(
      '/steps/0/expression secrets may only appear in http header values',
    );
    expect(
      rules([
        {
          id: 'a',
          kind: 'ai',
          connector: 'crm',
          api: 'openai-chat',
          model: 'm',
          prompt: '{{ secrets.TENANT }}',
        },
      ]),
    ).toContain('/steps/0/prompt secrets may only appear in http header values');
  });

  it('rejects undeclared data fields, bad run facts and malformed templates', () => {
    expect(
      rules([{ id: 's', kind: 'subflow', workflow: 'other', input: { x: '{{ input.ssn }}' } }]),
    ).toContain("/steps/0/input/x undeclared data field 'ssn' (declare it under data.fields)");
    expect(
      rules([{ id: 's', kind: 'subflow', workflow: 'other', input: { x: '{{ run.secretKey }}' } }]),
    ).toContain('/steps/0/input/x run facts are run.id, run.workflow and run.environment');
    const bad = rules([
      { id: 's', kind: 'subflow', workflow: 'other', input: { x: '{{ input.email + 1 }}' } },
    ]);
    expect(bad[0]).toMatch(/^\/steps\/0\/input\/x unexpected characters/);
    expect(
      rules([{ id: 's', kind: 'subflow', workflow: 'other', input: { x: '{{ process.env }}' } }])[0],
    ).toMatch(/unknown root/);
  });

  it('rejects JSONata syntax errors, regular expressions and $eval', () => {
    expect(rules([t('a', 'input.(')])[0]).toMatch(/^\/steps\/0\/expression syntax error/);
    expect(rules([t('a', '$match(input.email, /(a+)+$/)')])[0]).toMatch(
      /regular expressions are not allowed/,
    );
    expect(rules([t('a', '$eval("steps.x.output")')])[0]).toMatch(/\$eval is not allowed/);
  });
});

describe('validateWorkflow: connectors, store, delay, DLP', () => {
  it('rejects undeclared connectors and undeclared auth secrets', () => {
    expect(rules([{ id: 'h', kind: 'http', connector: 'ghost', method: 'GET', path: '/' }])).toContain(
      "/steps/0/connector undeclared connector 'ghost'",
    );
    const connectors = {
      c: {
        baseUrl: 'https://a.example.com',
        allowedHosts: ['a.example.com'],
        auth: { kind: 'bearer', secret: 'MISSING' },
        clearance: 'public',
      },
    };
    expect(rules([t('a')], { connectors })).toContain(
      "/connectors/c/auth/secret undeclared secret 'MISSING' (declare it under secrets)",
    );
  });

  it('requires the base URL host to be allowed and free of credentials', () => {
    const connectors = {
      c: {
        baseUrl: 'https://evil.example.org',
        allowedHosts: ['*.example.com'],
        auth: { kind: 'none' },
        clearance: 'public',
      },
      d: {
        baseUrl: 'https://api.example.com',
        allowedHosts: ['*.example.com'],
        auth: { kind: 'none' },
        clearance: 'public',
      },
    };
    const r = rules([t('a')], { connectors });
    expect(r).toContain('/connectors/c/baseUrl the base URL host must be in allowedHosts');
    expect(r.some((x) => x.startsWith('/connectors/d'))).toBe(false);
  });

  it('checks statically that input fields stay within the connector clearance', () => {
    const r = rules([
      {
        id: 'h',
        kind: 'http',
        connector: 'open',
        method: 'POST',
        path: '/',
        body: { e: '{{ input.email }}', p: '{{ input.plan }}' },
      },
    ]);
    expect(r).toEqual([
      "/steps/0/body/e data field 'email' is restricted; connector 'open' is cleared for internal",
    ]);
  });

  it('checks store fields against the data schema and blind indexes', () => {
    expect(
      rules([{ id: 's', kind: 'store', action: 'put', recordType: 'customer', record: { shoeSize: 42 } }]),
    ).toContain("/steps/0/record/shoeSize undeclared data field 'shoeSize'");
    expect(
      rules([{ id: 's', kind: 'store', action: 'find', recordType: 'customer', field: 'name', value: 'x' }]),
    ).toContain("/steps/0/field data field 'name' has no blind index (indexed: true)");
    expect(
      rules([
        {
          id: 's',
          kind: 'store',
          action: 'find',
          recordType: 'customer',
          field: 'email',
          value: '{{ input.email }}',
        },
      ]),
    ).toEqual([]);
  });

  it('requires exactly one of duration and until on delays', () => {
    expect(rules([{ id: 'd', kind: 'delay' }])).toContain('/steps/0 exactly one of duration and until');
    expect(rules([{ id: 'd', kind: 'delay', duration: 'PT' }])).toContain(
      '/steps/0/duration ISO 8601 duration with at least one component',
    );
    expect(rules([{ id: 'd', kind: 'delay', duration: 'PT5M' }])).toEqual([]);
  });
});

describe('validateWorkflow: data schema', () => {
  it('accepts the kernel PII categories and custom ones, rejects others', () => {
    const data = (category: string) => ({
      data: { fields: { f: { type: 'string', classification: 'restricted', category } } },
    });
    expect(rules([t('a')], data('iban'))).toEqual([]);
    expect(rules([t('a')], data('custom:loyalty_id'))).toEqual([]);
    expect(rules([t('a')], data('shoe_size'))[0]).toMatch(/^\/data\/fields\/f\/category must match/);
  });
});

describe('validateWorkflow: subflow cycles', () => {
  const other = (name: string, calls: string): WorkflowDefinition =>
    validateWorkflow(workflowWith([{ id: 'call', kind: 'subflow', workflow: calls }], { name }));

  it('finds cycles through other workflows with a resolver', () => {
    const registry = new Map([
      ['b-flow', other('b-flow', 'c-flow')],
      ['c-flow', other('c-flow', 'test-flow')],
    ]);
    const r = rules(
      [{ id: 'go', kind: 'subflow', workflow: 'b-flow' }],
      {},
      { resolveWorkflow: (n) => registry.get(n) },
    );
    expect(r).toContain('/steps/0/workflow subflow cycle: test-flow → b-flow → c-flow → test-flow');
  });

  it('reports unknown workflows when a resolver is given, and terminates on foreign cycles', () => {
    const registry = new Map([
      ['b-flow', other('b-flow', 'c-flow')],
      ['c-flow', other('c-flow', 'b-flow')],
    ]);
    const resolveWorkflow = (n: string) => registry.get(n);
    expect(rules([{ id: 'go', kind: 'subflow', workflow: 'nope' }], {}, { resolveWorkflow })).toContain(
      "/steps/0/workflow unknown workflow 'nope'",
    );
    expect(rules([{ id: 'go', kind: 'subflow', workflow: 'b-flow' }], {}, { resolveWorkflow })).toEqual([]);
  });
});

describe('validateWorkflow: inline credentials', () => {
  const inBody = (value: string, key = 'note') => [
    { id: 'h', kind: 'http', connector: 'crm', method: 'POST', path: '/', body: { [key]: value } },
  ];
  const cases: [string, string][] = [
    ['sk-proj-4fK9x2LmQw8ZrT1vB7nC3dE6', 'API key (sk-…)'],
    ['AKIAIOSFODNN7EXAMPLE', 'AWS access key'],
    ['wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'high-entropy string'],
    ['-----BEGIN RSA PRIVATE KEY-----\nMIIEow…', 'private key'],
    ['Bearer eyJhbGciOiJIUzI1NiJ9abc123', 'Bearer token'],
    ['Basic dXNlcjpodW50ZXIy', 'Basic credentials'],
    ['https://admin:hunter2@db.example.com/', 'password in URL'],
    ['ghp_1234567890abcdefghijklmnopqrstuvwxyzAB', 'GitHub token'],
    ['xoxb-1234567890-abcdefghij', 'Slack token'],
    [
      'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U',
      'JSON Web Token',
    ],
  ];
  it.each(cases)('rejects %s as %s, without echoing it', (value, kind) => {
    const p = problems(inBody(value));
    expect(p.map((x) => x.rule)).toContain(
      `looks like a credential (${kind}); declare a secret and reference it as secrets.NAME`,
    );
    expect(JSON.stringify(p)).not.toContain(value.slice(4, 14));
  });

  it('rejects credentials in headers, code and connector URLs too', () => {
    expect(
      rules([
        {
          id: 'h',
          kind: 'http',
          connector: 'crm',
          method: 'GET',
          path: '/',
          headers: { Authorization: 'Bearer abcDEF123456789xyz' },
        },
      ]),
    ).toContain(
      '/steps/0/headers/Authorization looks like a credential (Bearer token); declare a secret and reference it as secrets.NAME',
    );
    expect(
      rules([
        {
          id: 'h',
          kind: 'http',
          connector: 'crm',
          method: 'GET',
          path: '/',
          headers: { 'X-Api-Key': 'letmein' },
        },
      ]),
    ).toContain(
      '/steps/0/headers/X-Api-Key literal value under a credential-named key; reference a secret or an input field',
    );
    expect(
      rules([
        {
          id: 'c',
          kind: 'code',
          source: 'const key = "sk-live-abcdefghijklmnop1234"; function main() { return key }',
        },
      ]),
    ).toContain(
      '/steps/0/source looks like a credential (API key (sk-…)); declare a secret and reference it as secrets.NAME',
    );
    expect(rules(inBody('hunter22', 'password'))).toContain(
      '/steps/0/body/password literal value under a credential-named key; reference a secret or an input field',
    );
  });

  it('accepts secret references and ordinary text', () => {
    expect(
      rules([
        {
          id: 'h',
          kind: 'http',
          connector: 'crm',
          method: 'GET',
          path: '/',
          headers: { Authorization: 'Bearer {{ secrets.API_TOKEN }}' },
        },
        {
          id: 'c',
          kind: 'code',
          source:
            'function main(input, helpers) { const customerIdentifier = input.id; return { customerIdentifier } }',
        },
        {
          id: 'n',
          kind: 'approval',
          approvers: ['ops'],
          message:
            'Bearer tokens and Basic authentication are explained at https://docs.example.com/auth/overview-2024',
        },
        t('hex', '"3f7a9c2e8b1d4f6a0c5e7b9d2f4a6c8e0b1d3f5a7c9e1b3d5f7a9c1e3b5d7f9a"'),
        t('uuid', '"6f1c2a7e-3b4d-4e5f-8a9b-0c1d2e3f4a5b"'),
      ]),
    ).toEqual([]);
  });

  it('throws a typed error listing every problem', () => {
    try {
      validateWorkflow(workflowWith([t('a', 'steps.nope.output'), t('a')]), { source: 'wf' });
      expect.unreachable();
    } catch (err) {
      expect(isCustosError(err, 'ENGINE_DEFINITION_INVALID')).toBe(true);
      if (isCustosError(err)) expect(err.details.problems?.length).toBe(2);
    }
  });
});

describe('validateWorkflow: export steps', () => {
  const exp = (more: Record<string, unknown> = {}) => ({
    id: 'ship',
    kind: 'export',
    definition: 'regulator-customers',
    purpose: 'Art. 58 request for {{ input.name }}',
    ...more,
  });

  it('accepts a named definition with a purpose, version and recipients', () => {
    const def = validateWorkflow(
      workflowWith([exp({ definitionVersion: 3, recipients: [`age1${'q'.repeat(58)}`] })]),
    );
    expect(def.steps[0]).toMatchObject({ kind: 'export', definition: 'regulator-customers' });
  });

  it('requires the definition name and a purpose', () => {
    const r = rules([{ id: 'ship', kind: 'export' }]);
    expect(r.join('\n')).toMatch(/definition/);
    expect(r.join('\n')).toMatch(/purpose/);
    expect(rules([exp({ definition: 'Not A Name' })]).some((x) => x.startsWith('/steps/0/definition'))).toBe(
      true,
    );
  });

  it('rejects a blank or multi-line purpose, bad recipients and unknown references', () => {
    expect(rules([exp({ purpose: '   ' })])).toContain(
      '/steps/0/purpose one printable line (why the export happens)',
    );
    expect(rules([exp({ purpose: 'a\nb' })])).toContain(
      '/steps/0/purpose one printable line (why the export happens)',
    );
    expect(rules([exp({ recipients: ['ssh-ed25519 AAAA'] })]).some((x) => x.includes('recipients'))).toBe(
      true,
    );
    expect(rules([exp({ purpose: '{{ steps.ghost.output }}' })]).join('\n')).toMatch(/ghost/);
  });
});
