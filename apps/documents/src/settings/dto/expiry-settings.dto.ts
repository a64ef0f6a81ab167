import {
  ArrayMaxSize,
  ArrayUnique,
  IsArray,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  registerDecorator,
  type ValidationOptions,
} from 'class-validator';

const MAX_THRESHOLD = 3650;

/** A field this API no longer takes, with where it went. */
function MovedTo(where: string, options?: ValidationOptions): PropertyDecorator {
  return (target, property) =>
    registerDecorator({
      name: 'movedTo',
      target: target.constructor,
      propertyName: property as string,
      options: { message: `$property is not set here: ${where}`, ...options },
      validator: { validate: () => false },
    });
}

/** { "<document type>": [days, ...] } with each list like `thresholds`. */
function IsThresholdOverrides(options?: ValidationOptions): PropertyDecorator {
  return (target, property) =>
    registerDecorator({
      name: 'isThresholdOverrides',
      target: target.constructor,
      propertyName: property as string,
      options: {
        message: `$property must map document types to lists of at most 20 distinct whole days between 1 and ${MAX_THRESHOLD}`,
        ...options,
      },
      validator: {
        validate: (v: unknown) => {
          if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
          const entries = Object.entries(v as Record<string, unknown>);
          if (entries.length > 200) return false;
          return entries.every(
            ([type, list]) =>
              type.length > 0 &&
              type.length <= 100 &&
              Array.isArray(list) &&
              list.length <= 20 &&
              new Set(list).size === list.length &&
              list.every((n) => Number.isInteger(n) && n >= 1 && n <= MAX_THRESHOLD),
          );
        },
      },
    });
}

/** PUT /api/v1/expiry-settings: replaces the tenant's settings; a field left out takes its default. */
export class ExpirySettingsDto {
  /** The tenant's timezone is the tenant registry's; sending it is refused with where to change it. */
  @IsOptional()
  @MovedTo('a tenant\'s timezone is changed in the tenant registry (PATCH /api/v1/tenants/{companyId} on the scheduler)')
  timezone?: unknown;

  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(23)
  scanHour?: number;

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(20)
  @ArrayUnique()
  @IsInt({ each: true })
  @Min(1, { each: true })
  @Max(MAX_THRESHOLD, { each: true })
  thresholds?: number[];

  @IsOptional()
  @IsThresholdOverrides()
  typeOverrides?: Record<string, number[]>;

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(10)
  @IsString({ each: true })
  @Matches(/^[A-Za-z0-9_.:-]{1,100}$/, { each: true, message: 'each role in $property must be 1-100 letters, digits, _ . : or -' })
  escalationChain?: string[];

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(365)
  escalationAfterDays?: number;
}
