import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsEmail, IsIn, IsInt, IsISO8601, IsNotEmpty, IsOptional, IsString, Matches, MaxLength, Min, ValidateIf, ValidateNested } from 'class-validator';

const TENANT = /^[A-Za-z0-9_-]{1,100}$/;
const HH_MM = /^([01]\d|2[0-3]):[0-5]\d$/;

export class QuietHours {
  @Matches(HH_MM)
  start: string;

  @Matches(HH_MM)
  end: string;
}

export class ChannelOptOut {
  /** An event type such as task.assigned, or * for every type. */
  @IsString()
  @MaxLength(100)
  type: string;

  @IsIn(['in_app', 'email', 'push', 'webhook', '*'])
  channel: string;
}

export class MemberPreferences {
  @IsOptional()
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => ChannelOptOut)
  optOut?: ChannelOptOut[];
}

abstract class OrderedMemberEvent {
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  userId: string;

  @Matches(TENANT)
  companyId: string;

  /** Grows per member; an older event never overwrites a newer one. */
  @ValidateIf((o: OrderedMemberEvent) => o.occurredAt === undefined || o.version !== undefined)
  @IsInt()
  @Min(0)
  version?: number;

  @ValidateIf((o: OrderedMemberEvent) => o.version === undefined || o.occurredAt !== undefined)
  @IsISO8601({ strict: true })
  occurredAt?: string;
}

/** `member.upserted`: a person in a tenant, with roles and how to reach them. */
export class MemberUpsertedEvent extends OrderedMemberEvent {
  @IsArray()
  @ArrayMaxSize(50)
  @IsString({ each: true })
  roles: string[];

  @IsOptional()
  @IsEmail()
  email?: string;

  @IsOptional()
  @IsString()
  @MaxLength(10)
  locale?: string;

  @IsOptional()
  @IsString()
  @MaxLength(64)
  timezone?: string;

  @IsOptional()
  @ValidateNested()
  @Type(() => MemberPreferences)
  preferences?: MemberPreferences;

  @IsOptional()
  @ValidateNested()
  @Type(() => QuietHours)
  quietHours?: QuietHours;
}

/** `member.removed`: the person left the tenant. */
export class MemberRemovedEvent extends OrderedMemberEvent {}

/** Orders member events: version when given, else occurredAt in milliseconds. */
export function memberEventOrder(e: { version?: number; occurredAt?: string }): number {
  return e.version ?? Date.parse(e.occurredAt!);
}
