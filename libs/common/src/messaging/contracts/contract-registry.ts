import { plainToInstance } from 'class-transformer';
import { validate, type ValidationError } from 'class-validator';
import { InvalidPayloadError } from '../errors.js';
import { compileContract, type CompiledCheck } from './compiled-contract.js';

export type ContractClass<T = object> = new (...args: never[]) => T;

function flatten(errors: ValidationError[], prefix = ''): string[] {
  return errors.flatMap((e) => {
    const path = prefix ? `${prefix}.${e.property}` : e.property;
    const own = Object.values(e.constraints ?? {}).map((m) => `${path}: ${m}`);
    return [...own, ...flatten(e.children ?? [], path)];
  });
}

/** Maps each message type to the one class its payload must satisfy. */
export class ContractRegistry {
  private readonly contracts = new Map<string, ContractClass>();
  private readonly compiled = new Map<ContractClass, CompiledCheck | undefined>();

  constructor(entries: Record<string, ContractClass> = {}) {
    for (const [type, cls] of Object.entries(entries)) this.register(type, cls);
  }

  register(type: string, cls: ContractClass): void {
    const existing = this.contracts.get(type);
    if (existing && existing !== cls) throw new Error(`two contracts for message type "${type}": ${existing.name} and ${cls.name}`);
    this.contracts.set(type, cls);
    if (!this.compiled.has(cls)) this.compiled.set(cls, compileContract(cls));
  }

  has(type: string): boolean {
    return this.contracts.has(type);
  }

  /**
   * The payload as an instance of its contract when the compiled check (compiled-contract.ts) passes it, without a
   * promise; undefined when only `validate` can answer (no compiled check, not an object, or a failing payload,
   * whose error messages class-validator gives).
   */
  validSync<T extends object>(type: string, data: unknown): T | undefined {
    const cls = this.contracts.get(type);
    if (!cls || typeof data !== 'object' || data === null || Array.isArray(data)) return undefined;
    const fast = this.compiled.get(cls);
    if (!fast) return undefined;
    // No class-transformer metadata: plainToInstance would make the same copy.
    const copy = Object.assign(new (cls as new () => T)(), data);
    return fast(copy as Record<string, unknown>) ? copy : undefined;
  }

  /** Returns the payload as an instance of its contract, or throws InvalidPayloadError listing every problem. */
  async validate<T extends object>(type: string, data: unknown): Promise<T> {
    const cls = this.contracts.get(type);
    if (!cls) throw new InvalidPayloadError(`no contract is registered for message type "${type}"`);
    if (typeof data !== 'object' || data === null || Array.isArray(data)) {
      throw new InvalidPayloadError(`payload of "${type}" must be a JSON object`);
    }
    const valid = this.validSync<T>(type, data);
    if (valid) return valid;
    const instance = plainToInstance(cls as new () => T, data);
    const errors = await validate(instance, { forbidUnknownValues: true, whitelist: false });
    if (errors.length) {
      const problems = flatten(errors);
      throw new InvalidPayloadError(`payload of "${type}" fails ${cls.name}: ${problems.join('; ')}`, problems);
    }
    return instance;
  }
}
