import { defaultMetadataStorage } from 'class-transformer/cjs/storage.js';
import { getMetadataStorage, ValidationTypes, type ValidationArguments } from 'class-validator';
import type { ValidationMetadata } from 'class-validator/types/metadata/ValidationMetadata.js';
import type { ContractClass } from './contract-registry.js';

/** True when the instance passes every constraint of its contract; false means "ask class-validator". */
export type CompiledCheck = (instance: Record<string, unknown>) => boolean;

interface PropertyCheck {
  property: string;
  conditions: ValidationMetadata[];
  rules: { meta: ValidationMetadata; validate: (value: unknown, args: ValidationArguments) => unknown }[];
}

/**
 * Compiles a contract's class-validator metadata into one synchronous check,
 * once, so a valid message costs a few property reads instead of
 * class-transformer's and class-validator's per-message walk of the metadata
 * (≈ 14 % of a worker's CPU in the burn-down profile). Each rule calls the
 * decorator's own validate function, so what passes is exactly what
 * class-validator passes; a message that fails goes through class-validator
 * for its error messages. Returns undefined — always use class-validator — for
 * a contract this cannot mirror exactly: nested validation, async or unknown
 * constraints, groups, or class-transformer metadata (the instance is then not
 * a plain copy).
 */
export function compileContract(cls: ContractClass): CompiledCheck | undefined {
  if (defaultMetadataStorage.getExposedMetadatas(cls).length || defaultMetadataStorage.getExcludedMetadatas(cls).length) return undefined;
  const metas = getMetadataStorage().getTargetValidationMetadatas(cls, '', false, false, undefined);
  if (metas.length === 0) return undefined; // forbidUnknownValues: let class-validator answer
  const byProperty = new Map<string, PropertyCheck>();
  for (const m of metas) {
    if (m.groups?.length || m.always) return undefined;
    const property = m.propertyName;
    if (defaultMetadataStorage.findTypeMetadata(cls, property) || defaultMetadataStorage.findTransformMetadatas(cls, property, 1 /* PLAIN_TO_CLASS */).length) return undefined;
    let check = byProperty.get(property);
    if (!check) byProperty.set(property, (check = { property, conditions: [], rules: [] }));
    switch (m.type) {
      case ValidationTypes.CONDITIONAL_VALIDATION:
        check.conditions.push(m);
        break;
      case ValidationTypes.WHITELIST:
        break;
      case ValidationTypes.CUSTOM_VALIDATION:
      case ValidationTypes.IS_DEFINED: {
        const constraints = getMetadataStorage().getTargetValidatorConstraints(m.constraintCls);
        if (constraints.length !== 1 || constraints[0].async) return undefined;
        const instance = constraints[0].instance;
        check.rules.push({ meta: m, validate: (value, args) => instance.validate(value, args) });
        break;
      }
      default:
        return undefined; // nested validation, promise validation, …
    }
  }
  const checks = [...byProperty.values()];
  // One arguments object, refilled per rule: the check is synchronous, and the built-in validators read it only during the call.
  const args: ValidationArguments = { targetName: cls.name, property: '', object: {}, value: undefined, constraints: [] };
  return (object) => {
    args.object = object;
    for (const c of checks) {
      const value = object[c.property];
      // A false condition (IsOptional on null/undefined, ValidateIf) skips the property, as in class-validator.
      let skip = false;
      for (const cond of c.conditions) if (!(cond.constraints[0] as (o: object, v: unknown) => boolean)(object, value)) skip = true;
      if (skip) continue;
      for (const { meta, validate } of c.rules) {
        args.property = c.property;
        args.value = value;
        args.constraints = meta.constraints;
        if (meta.each && (Array.isArray(value) || value instanceof Set || value instanceof Map)) {
          for (const item of value instanceof Map ? value.values() : value) if (validate(item, args) !== true) return false;
        } else if (validate(value, args) !== true) return false;
      }
    }
    return true;
  };
}
