import { ArrayMaxSize, IsArray, IsBoolean, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';

export class PutWebhookBody {
  /** An absolute https URL of a public host; its form and target are checked by WebhookTargets (422 with the reason). */
  @IsString()
  @MaxLength(2000)
  url: string;

  /** The HMAC-SHA256 key; at least 16 characters. */
  @IsString()
  @MinLength(16)
  @MaxLength(500)
  secret: string;

  /** Event types sent; empty or absent: every type. */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @IsString({ each: true })
  types?: string[];

  @IsOptional()
  @IsBoolean()
  enabled?: boolean;
}
