import 'reflect-metadata';
import { plainToInstance, Transform, Type } from 'class-transformer';
import { getMetadataStorage, IsDefined, IsEmail, IsIn, IsInt, IsISO8601, IsNotEmpty, IsOptional, IsString, Matches, MaxLength, Min, validate, ValidateIf, ValidateNested } from 'class-validator';
import { compileContract } from './compiled-contract.js';
import { ContractRegistry, type ContractClass } from './contract-registry.js';
import { MESSAGE_CONTRACTS } from './index.js';

class Sample {
  @IsString() @IsNotEmpty() @MaxLength(8) name: string;
  @IsOptional() @IsInt() @Min(1) count?: number;
  @IsIn(['email', 'webhook']) channel: string;
  @ValidateIf((o: Sample) => o.channel === 'email') @IsEmail() to?: string;
  @IsOptional() @IsString({ each: true }) tags?: string[];
  @IsOptional() @IsISO8601() at?: string;
  @IsOptional() @Matches(/^[a-z]+$/) slug?: string;
  @IsDefined() marker: unknown;
}

class Child {
  @IsString() v: string;
}
class WithNested {
  @ValidateNested() @Type(() => Child) child: Child;
}
class WithTransform {
  @Transform(({ value }) => String(value)) @IsString() v: string;
}

const CANDIDATES: unknown[] = [
  'a', 'abc', '', 'UPPER', 'x'.repeat(300), 'ops@example.com', 'not an email', '2026-03-29T01:30:00Z', '2026-13-45', '0f8fad5b-d9cb-469f-a165-70867728950e',
  0, 1, -1, 7, 1.5, 1e12, true, false, null, undefined, [], ['a', 'b'], ['a', 1], {}, { v: 'x' }, 'email', 'webhook', 'normal', 'critical',
];

/** Values of @IsIn constraints, so enums get valid candidates too. */
function enumValues(cls: ContractClass): unknown[] {
  return getMetadataStorage()
    .getTargetValidationMetadatas(cls, '', false, false, undefined)
    .flatMap((m) => (Array.isArray(m.constraints?.[0]) ? (m.constraints[0] as unknown[]) : []));
}

async function verdict(cls: ContractClass, data: Record<string, unknown>): Promise<boolean> {
  const errors = await validate(plainToInstance(cls as new () => object, data), { forbidUnknownValues: true, whitelist: false });
  return errors.length === 0;
}

/** A payload class-validator accepts, built property by property (undefined when none was found). */
async function validBase(cls: ContractClass, pool: unknown[]): Promise<Record<string, unknown> | undefined> {
  const props = [...new Set(getMetadataStorage().getTargetValidationMetadatas(cls, '', false, false, undefined).map((m) => m.propertyName))];
  const base: Record<string, unknown> = {};
  for (const p of props) {
    for (const v of pool) {
      base[p] = v;
      const errors = await validate(plainToInstance(cls as new () => object, base), { forbidUnknownValues: true });
      if (!errors.some((e) => e.property === p)) break;
    }
  }
  return (await verdict(cls, base)) ? base : undefined;
}

/** Compares the compiled check with class-validator on a valid payload and on mutations of it. */
async function differential(cls: ContractClass, rounds = 300): Promise<{ agreed: number; valid: number }> {
  const check = compileContract(cls)!;
  const pool = [...enumValues(cls), ...CANDIDATES];
  const base = (await validBase(cls, pool)) ?? {};
  const props = Object.keys(base);
  let seed = 42;
  const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
  let valid = 0;
  for (let i = 0; i < rounds; i++) {
    const data = { ...base };
    const changes = i === 0 ? 0 : 1 + Math.floor(random() * 2);
    for (let c = 0; c < changes && props.length; c++) data[props[Math.floor(random() * props.length)]] = pool[Math.floor(random() * pool.length)];
    const expected = await verdict(cls, data);
    const copy = Object.assign(new (cls as new () => object)(), data) as Record<string, unknown>;
    expect({ data, compiled: check(copy) }).toEqual({ data, compiled: expected });
    if (expected) valid++;
  }
  return { agreed: rounds, valid };
}

describe('compileContract', () => {
  it('accepts exactly what class-validator accepts (optional, conditional, each, enums, formats)', async () => {
    const { valid } = await differential(Sample, 600);
    expect(valid).toBeGreaterThan(30); // both verdicts were exercised
  });

  it.each(Object.entries(MESSAGE_CONTRACTS).filter(([, cls]) => compileContract(cls)))('agrees with class-validator on %s', async (_type, cls) => {
    const { valid } = await differential(cls, 150);
    expect(valid).toBeGreaterThan(0);
  });

  it('leaves nested validation and class-transformer metadata to class-validator', () => {
    expect(compileContract(WithNested)).toBeUndefined();
    expect(compileContract(WithTransform)).toBeUndefined();
    expect(compileContract(class Bare {})).toBeUndefined();
  });

  it('the registry answers the same through the compiled check, errors still listing every problem', async () => {
    const registry = new ContractRegistry({ sample: Sample });
    const ok = await registry.validate<Sample>('sample', { name: 'abc', channel: 'webhook', marker: 1 });
    expect(ok).toBeInstanceOf(Sample);
    expect(ok.name).toBe('abc');
    await expect(registry.validate('sample', { name: '', channel: 'email', to: 'nope', marker: 1 })).rejects.toMatchObject({
      problems: expect.arrayContaining([expect.stringContaining('name'), expect.stringContaining('to')]),
    });
  });
});
