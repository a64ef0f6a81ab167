import { Type } from 'class-transformer';
import { IsDefined, IsInt, IsObject, IsOptional, IsString, IsUrl, MaxLength, Min, registerDecorator, ValidateNested, type ValidationOptions } from 'class-validator';
import { createECDH } from 'node:crypto';

const BASE64URL = /^[A-Za-z0-9_-]+={0,2}$/;

function decode(value: unknown): Buffer | null {
  return typeof value === 'string' && BASE64URL.test(value) ? Buffer.from(value.replace(/=+$/, ''), 'base64url') : null;
}

/** An uncompressed P-256 public key on the curve, base64url (what PushSubscription.getKey('p256dh') gives). */
function IsP256PublicKey(options?: ValidationOptions) {
  return (target: object, property: string) =>
    registerDecorator({
      name: 'isP256PublicKey',
      target: target.constructor,
      propertyName: property,
      options: { message: `${property} must be the browser's P-256 public key (65 bytes, base64url)`, ...options },
      validator: {
        validate(value: unknown) {
          const key = decode(value);
          if (!key || key.length !== 65 || key[0] !== 0x04) return false;
          try {
            const ecdh = createECDH('prime256v1');
            ecdh.generateKeys();
            ecdh.computeSecret(key); // throws for a point that is not on the curve
            return true;
          } catch {
            return false;
          }
        },
      },
    });
}

/** The 16-byte authentication secret, base64url. */
function IsAuthSecret(options?: ValidationOptions) {
  return (target: object, property: string) =>
    registerDecorator({
      name: 'isAuthSecret',
      target: target.constructor,
      propertyName: property,
      options: { message: `${property} must be the browser's 16-byte authentication secret (base64url)`, ...options },
      validator: { validate: (value: unknown) => decode(value)?.length === 16 },
    });
}

export class PushKeys {
  @IsString()
  @IsP256PublicKey()
  p256dh: string;

  @IsString()
  @IsAuthSecret()
  auth: string;
}

/** The browser's PushSubscription, as `JSON.stringify(subscription)` gives it. */
export class PushSubscriptionBody {
  /** The push service's URL for this browser (https in every browser; http accepted like webhook URLs). */
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true })
  @MaxLength(2000)
  endpoint: string;

  /** When the push service expires it (ms since the epoch), or null. */
  @IsOptional()
  @IsInt()
  @Min(0)
  expirationTime?: number | null;

  @IsDefined()
  @IsObject()
  @ValidateNested()
  @Type(() => PushKeys)
  keys: PushKeys;
}
