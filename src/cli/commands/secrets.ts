import type { Command } from 'commander';
import { TollgateError } from '../../domain/errors.ts';
import { encryptSecret, masterKeysFrom, newMasterKey } from '../../config/secret-box.ts';
import type { CliContext } from '../context.ts';

/**
 * `tollgate secrets`: encrypt provider credentials (and any other secret) for tollgate.yaml. The
 * secret is read from standard input, never from the command line, so it stays out of shell history.
 */
export function registerSecrets(program: Command, ctx: CliContext, readStdin: () => Promise<string> = readAll): void {
  const secrets = program.command('secrets').description('encrypt secrets for tollgate.yaml under a master key held in the environment');

  secrets
    .command('master-key')
    .description('print a new random master key (put it in TOLLGATE_MASTER_KEY, in your secret manager)')
    .action(() => {
      ctx.io.stdout(`${newMasterKey()}\n`);
    });

  secrets
    .command('encrypt')
    .description('read a secret on standard input and print its enc:v1:… form for tollgate.yaml (needs TOLLGATE_MASTER_KEY)')
    .action(async () => {
      const [master] = masterKeysFrom(ctx.env);
      if (!master) throw new TollgateError('invalid_request', 'set TOLLGATE_MASTER_KEY first (make one with: tollgate secrets master-key)');
      const plain = (await readStdin()).replace(/\r?\n$/, '');
      if (plain === '') throw new TollgateError('invalid_request', 'nothing on standard input: pipe the secret in, e.g. printf %s "$OPENAI_API_KEY" | tollgate secrets encrypt');
      ctx.io.stdout(`${encryptSecret(plain, master)}\n`);
    });
}

async function readAll(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
